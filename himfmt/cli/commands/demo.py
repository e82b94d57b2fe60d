"""``himfmt demo``: the main job on built-in, procedurally generated data."""

from __future__ import annotations

import time
from pathlib import Path

from himfmt.cli import console, views
from himfmt.cli.commands.detect import describe, report_problems, summary_table
from himfmt.cli.demo_job import make, write_previews
from himfmt.io.tree import Tree
from himfmt.layouts.detect import detect
from himfmt.options import DemoOptions
from himfmt.validation import validate

SUMMARY = "build a small dataset of every layout from built-in assets [out=DIR]"


def run(cfg: DemoOptions) -> int:
    out = Path(cfg.out).resolve()
    start = time.perf_counter()
    failed = make(out, cfg.seed, cfg.overwrite)
    tree = Tree(out)
    found = detect(tree)
    rows = [describe(ds) for ds in found.datasets()]
    console.show(summary_table(rows, f"himfmt demo: {len(rows)} datasets in {out}"))
    rc = report_problems(found)
    with console.err.status("drawing preview sheets"):
        sheets = write_previews(out, found.datasets())
    console.out.print("preview sheets (look at them):\n" + "\n".join(f"  {p}" for p in sheets))
    with console.err.status("validating every file (deep)"):
        report = validate(str(out), deep_pass=True)
    views.show(report, console.out)
    console.out.print(f"done in {time.perf_counter() - start:.1f} s; try: himfmt validate {out} html=report.html")
    return max(rc, 1 if report.fails("warning") or failed else 0)
