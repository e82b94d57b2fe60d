"""``himfmt demo``: the main job on built-in, procedurally generated data."""
from __future__ import annotations

import time
from pathlib import Path

from omegaconf import DictConfig

from .. import console
from ..detect import detect
from ..io.tree import Tree
from ..validate import validate
from ..validate.report import render
from .detect_cmd import describe, report_problems, summary_table
from ..demo_job import make, write_previews

SUMMARY = "build a small dataset of every layout from built-in assets [out=DIR]"
def run(cfg: DictConfig) -> int:
    out = Path(cfg.out).resolve()
    start = time.perf_counter()
    failed = make(out, int(cfg.seed), cfg.overwrite)
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
    render(report, console.out, deep=True)
    console.out.print(f"done in {time.perf_counter() - start:.1f} s; try: himfmt validate {out} html=report.html")
    return max(rc, 1 if report.fails("warning") or failed else 0)
