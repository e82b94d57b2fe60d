"""``himfmt stats``: counts, sizes and matte figures per dataset and split."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table

from himfmt.cli import console
from himfmt.errors import HimfmtError
from himfmt.inspection.stats import stats
from himfmt.layouts.detect import open_datasets
from himfmt.options import Output, StatsOptions

SUMMARY = "counts, resolutions and matte figures per dataset and split: root=DIR [output=text|json] [n=64]"
FIGURES = {
    "opaque": "opaque pixels (alpha 255)",
    "soft": "soft pixels (0 < alpha < 255)",
    "empty": "empty pixels (alpha 0)",
    "edge_width": "soft-edge width (px)",
    "occlusion": "overlap between instances (share of an instance)",
}


def split_table(ds: dict[str, Any], sp: dict[str, Any]) -> Table:
    table = Table(title=f"{ds['path'] or '.'} ({ds['layout']}) / {sp['split']}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("samples", str(sp["samples"]))
    table.add_row("frames", str(sp["frames"]))
    table.add_row("instances", str(sp["instances"]))
    table.add_row("instances per sample", "  ".join(f"{k}: {v}" for k, v in sp["instances_per_sample"].items()))
    table.add_row("resolutions", "  ".join(f"{r['width']}x{r['height']}: {r['samples']}" for r in sp["resolutions"]))
    if "clip_frames" in sp:
        c = sp["clip_frames"]
        table.add_row("clip length (frames)", f"min {c['min']}, median {c['median']}, max {c['max']}")
    px = sp["pixels"]
    table.add_row("decoded for the figures below", f"{px['frames_decoded']} of {px['of_frames']} frames (seed {px['seed']})")
    for key, label in FIGURES.items():
        if key in px:
            table.add_row(label, f"{px[key]:.3f}")
    return table


def run(cfg: StatsOptions) -> int:
    datasets = open_datasets(cfg.root, layout=cfg.layout)
    if not datasets:
        raise HimfmtError("no dataset found", cfg.root)
    with console.err.status("counting and sampling"):
        result = stats(datasets, cfg.n, cfg.seed)
    if cfg.output == Output.json:
        print(json.dumps({"root": cfg.root, "datasets": result}, indent=2))
        return 0
    for ds in result:
        for sp in ds["splits"]:
            console.show(split_table(ds, sp))
    return 0
