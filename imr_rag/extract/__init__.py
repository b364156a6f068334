"""Extraction: letters -> typed Decision records whose claims point at exact characters."""
