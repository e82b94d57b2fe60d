"""``himfmt detect``: which datasets are under a folder, in which layout."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table

from himfmt.cli import console
from himfmt.io.archive import open_tree
from himfmt.layouts.detect import Detection, detect
from himfmt.model import Dataset
from himfmt.options import DetectOptions

SUMMARY = "find every dataset under root=DIR and name its layout [output=text|json]"


def describe(ds: Dataset) -> dict[str, Any]:
    return {
        "path": ds.path or ".",
        "layout": ds.layout,
        "kind": ds.kind,
        "splits": list(ds.splits),
        "samples": len(ds.samples),
        "frames": ds.n_frames,
        "instances": ds.n_instances,
        "alpha_dir": ds.alpha_dir,
        "mask_dirs": ds.mask_dirs,
    }


def summary_table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    for col in ("path", "layout", "splits", "samples", "instances", "alpha / masks"):
        table.add_column(
            col,
            justify="right" if col in ("samples", "instances") else "left",
            no_wrap=col in ("path", "layout", "samples", "instances"),
            overflow="fold",
        )
    for r in rows:
        dirs = ", ".join([d for d in [r["alpha_dir"], *r["mask_dirs"]] if d])
        table.add_row(r["path"], r["layout"], ", ".join(r["splits"]), str(r["samples"]), str(r["instances"]), dirs)
    return table


def report_problems(found: Detection) -> int:
    """Print escapes, unreadable folders and ambiguities; returns the exit code they imply."""
    tree = found.tree
    for a, b in found.ambiguous:
        console.warn(f"{tree.display(a.path)}: ambiguous, matches both {a.layout} and {b.layout}; reported as {a.layout}")
    for rel in tree.escapes:
        console.error(f"{tree.display(rel)}: symlink to a folder outside the root, or to nothing; not followed")
    for rel in tree.unreadable:
        console.error(f"{tree.display(rel)}: folder is not readable")
    return 2 if tree.escapes or tree.unreadable else 0


def run(cfg: DetectOptions) -> int:
    tree = open_tree(cfg.root)
    layout = None if cfg.layout == "auto" else cfg.layout
    found = detect(tree, max_depth=cfg.max_depth, layout=layout)
    rows = [describe(ds) for ds in found.datasets()]
    rc = report_problems(found)
    if cfg.output == "json":
        near = [{"layout": m.layout, "path": tree.display(m.path), "missing": m.missing} for m in found.near]
        console.out.print_json(json.dumps({"root": str(tree.root), "datasets": rows, "near_misses": near}))
    elif rows:
        console.show(summary_table(rows, f"datasets under {tree.root} (paths relative to it)"))
    if not rows:
        console.error(found.explain_nothing())
        return max(rc, 1)
    return rc
