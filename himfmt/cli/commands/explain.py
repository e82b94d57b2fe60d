"""``himfmt explain``: what a finding code means, what it breaks and how to fix it."""

from __future__ import annotations

import difflib

from rich.table import Table

from himfmt.cli import console
from himfmt.errors import HimfmtError
from himfmt.options import ExplainOptions
from himfmt.repair.rules import RULES
from himfmt.validation.catalog import catalog

SUMMARY = "what a finding code means, what it breaks, how to fix it [code=CODE] (no code: list them all)"


def run(cfg: ExplainOptions) -> int:
    codes = catalog()
    asked = cfg.code or ""
    if asked in codes:
        info = codes[asked]
        console.out.print(f"[bold]{asked}[/] ({info['severity']}{', deep pass only' if info.get('deep_only') else ''})")
        for key in ("meaning", "breaks", "fix"):
            console.out.print(f"  {key}: {info[key]}")
        rule = RULES.get(asked)
        console.lines(
            [f"  himfmt fix: {rule.action}" if rule else "  himfmt fix: not repaired (the copy keeps it; the fix above is yours)"]
        )
        return 0
    chosen = {c: i for c, i in codes.items() if c.startswith(asked)}
    if not chosen:
        close = difflib.get_close_matches(asked, list(codes), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise HimfmtError(f"no finding code {asked!r}{hint} ('himfmt explain' lists them all)")
    table = Table(title=f"himfmt finding codes{f' starting {asked!r}' if asked else ''}: {len(chosen)}")
    table.add_column("code", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("meaning")
    for code, info in sorted(chosen.items()):
        table.add_row(code, info["severity"], info["meaning"])
    console.show(table)
    console.out.print("himfmt explain CODE: what it breaks and how to fix it")
    return 0
