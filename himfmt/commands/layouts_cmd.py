"""``himfmt layouts``: the layout names users put in configs and ``to=``."""
from __future__ import annotations

from omegaconf import DictConfig
from rich.table import Table

from .. import console
from ..convert_route import refusal, route
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
    matrix = Table(title="himfmt convert: from (rows) -> to (columns); 'lossy' steps are listed by convert")
    matrix.add_column("from \\ to")
    names = list(LAYOUTS)
    for i, name in enumerate(names):
        matrix.add_column(str(i + 1), justify="center")
    for i, src in enumerate(names):
        cells = []
        for dst in names:
            if refusal(src, dst):
                cells.append("[red]no[/]")
            else:
                cells.append("[yellow]lossy[/]" if route(src, dst, has_masks=LAYOUTS[src].holds.masks, has_layers=True).lossy else "[green]yes[/]")
        matrix.add_row(f"{i + 1} {src}", *cells)
    console.out.print(matrix)
    shown: set[str] = set()  # one example of each kind of refusal explains the matrix's 'no' cells
    for src in names:
        for dst in names:
            why = refusal(src, dst)
            if why and why.kind not in shown:
                shown.add(why.kind)
                console.out.print(f"  {src} -> {dst}: {why.text}")
    return 0
