"""``himfmt layouts``: the layout names users put in configs and ``to=``."""

from __future__ import annotations

from rich.table import Table

from himfmt.cli import console
from himfmt.conversion.route import refusal, route
from himfmt.errors import HimfmtError
from himfmt.layouts import LAYOUTS
from himfmt.options import LayoutsOptions

SUMMARY = "every layout: name, one-line description, image|video"


def run(cfg: LayoutsOptions) -> int:
    table = Table(title="himfmt layouts")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("description")
    for lay in LAYOUTS.values():
        table.add_row(lay.name, lay.kind, lay.description)
    console.show(table)
    names = list(LAYOUTS)
    matrix = Table(title="himfmt convert: from (rows) -> to (columns)")
    matrix.add_column("from \\ to", no_wrap=True)
    for i in range(len(names)):
        matrix.add_column(str(i + 1), justify="center", no_wrap=True)
    for i, src in enumerate(names):
        matrix.add_row(f"{i + 1} {src}", *(_cell(src, dst) for dst in names))
    console.show(matrix)
    console.out.print(
        console.paragraph(
            "yes: no step changes the samples; [yellow]~[/]: a step drops or changes something; "
            "either way 'convert dry_run=true' lists every change with its count (JPEG re-encodes "
            "too); [red]no[/]: refused, because:",
            console.out,
            more=0,
        )
    )
    shown: set[str] = set()  # one example of each kind of refusal explains the matrix's 'no' cells
    for src in names:
        for dst in names:
            why = refusal(src, dst)
            if why and why.kind not in shown:
                shown.add(why.kind)
                console.out.print(console.hang(f"  {src} -> {dst}: {why.text}"), markup=False)
    return 0


def _cell(src: str, dst: str) -> str:
    holds = LAYOUTS[src].holds  # a tree of src with everything it can hold
    try:
        lossy = not refusal(src, dst) and route(src, dst, has_masks=holds.masks, has_layers=holds.layers).lossy
    except HimfmtError:  # a route the source's trees can never take (clean backgrounds from composites alone)
        return "[red]no[/]"
    return "[red]no[/]" if refusal(src, dst) else "[yellow]~[/]" if lossy else "[green]yes[/]"
