"""Hydra configs of himfmt, shipped inside the package as ``himfmt.conf``."""
