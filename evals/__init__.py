"""Evals: fixture sets as data (letters + gold + questions), pure metrics, a runner, reports.

Run with `imr-rag eval` (see evals/README.md). Nothing in `imr_rag` imports this package.
"""
