"""Indexes: the dense store (the only chromadb importer), the embedders, the BM25 segments, and
retrieval (dense ranking and rank fusion). Never imports the catalog: rows and callables are passed in."""
