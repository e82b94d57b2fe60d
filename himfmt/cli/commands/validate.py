"""``himfmt validate``: find every problem that would crash or corrupt training."""

from __future__ import annotations

from pathlib import Path

from himfmt.cli import console, views
from himfmt.errors import HimfmtError
from himfmt.generation.merge import suffixed
from himfmt.inspection.preview import finding_pictures
from himfmt.io.files import atomic_write
from himfmt.layouts.detect import open_datasets
from himfmt.options import ValidateOptions
from himfmt.validation import validate
from himfmt.validation.report import to_html

SUMMARY = "check root=DIR against its layout's schema and content rules [deep=true] [report=FILE.json]"


def run(cfg: ValidateOptions) -> int:
    layout = None if cfg.layout == "auto" else cfg.layout
    shard = (cfg.shard.index, cfg.shard.count)
    if shard[1] > 1 and not cfg.report:
        raise HimfmtError(
            "a sharded validation needs report=FILE.json: each shard writes FILE.shardKofN.json, "
            "merged into FILE.json when the sweep ends (or by himfmt merge report=FILE.json)"
        )
    with console.progress("validating", elapsed=True) as bar:
        report = validate(cfg.root, layout, cfg.deep, cfg.workers, bar, shard)
    views.show(report, console.out)
    if cfg.report:
        target = suffixed(Path(cfg.report).resolve(), *shard)
        atomic_write(target, report.to_json().encode())
        console.err.print(f"report written to {target}")
    if cfg.html:
        with console.err.status("drawing the findings"):
            thumbs = finding_pictures(
                open_datasets(cfg.root, layout=layout),
                {(d.path, code): [(f.path, f.sample) for f in group] for d in report.datasets for code, group in d.groups()},
            )
        atomic_write(Path(cfg.html).resolve(), to_html(report, cfg.deep, thumbs).encode())
        console.err.print(f"HTML report written to {cfg.html}")
    return 1 if report.fails(cfg.fail_on.value) else 0
