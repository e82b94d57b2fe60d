"""JSON Schemas of himfmt's layout manifests, shipped as ``himfmt.schemas``."""
