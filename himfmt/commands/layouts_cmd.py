"""``himfmt layouts``: the layout names users put in configs and ``to=``."""
from __future__ import annotations

from omegaconf import DictConfig
from rich.table import Table

from .. import console
from ..layouts import LAYOUTS

SUMMARY = "every layout: name, one-line description, image|video"


def run(cfg: DictConfig) -> int:
    table = Table(title="himfmt layouts")
    table.add_column("name", style="bold")
    table.add_column("kind")
    table.add_column("description")
    for lay in LAYOUTS.values():
        table.add_row(lay.name, lay.kind, lay.description)
    console.out.print(table)
    return 0
