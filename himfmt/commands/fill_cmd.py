"""``himfmt fill``: make whatever a dataset config declares and the disk lacks."""
from __future__ import annotations

from omegaconf import DictConfig

from ..fill_engine import fill

SUMMARY = "make what a dataset config declares and the disk lacks: dataset=NAME|FILE.yaml [out=DIR] [dry_run=true]"


def run(cfg: DictConfig) -> int:
    _, failed = fill(cfg)
    return 1 if failed else 0
