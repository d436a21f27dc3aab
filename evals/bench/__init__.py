"""Benchmarks: `python -m evals.bench <serve|ingest|scale|faiss|inews>`."""
