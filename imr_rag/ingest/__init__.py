"""Ingest: read a letter (PDF, txt, md, html) into normalised text with a source-offset map, chunk it,
and run the staged pipeline (parse -> lexical -> embed) that stores letters in the catalog and indexes."""
