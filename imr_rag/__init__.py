"""imr-rag: Independent Medical Review letters as structured, cited, searchable data."""

__version__ = "0.1.0"
