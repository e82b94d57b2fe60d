"""``himfmt validate``: find every problem that would crash or corrupt training."""
from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from .. import console
from ..errors import HimfmtError
from ..io.files import atomic_write
from ..detect import open_datasets
from ..preview import finding_pictures
from ..shards import suffixed
from ..validate import validate
from ..validate.catalog import RANK
from ..validate.report import render, to_html

SUMMARY = "check root=DIR against its layout's schema and content rules [deep=true] [report=FILE.json]"


def run(cfg: DictConfig) -> int:
    if cfg.fail_on not in RANK:
        raise HimfmtError(f"fail_on must be one of {', '.join(RANK)}, not {cfg.fail_on!r}")
    layout = None if cfg.layout == "auto" else str(cfg.layout)
    shard = (int(cfg.shard.index), int(cfg.shard.count))
    if shard[1] > 1 and not cfg.report:
        raise HimfmtError("a sharded validation needs report=FILE.json: each shard writes FILE.shardKofN.json, "
                          "merged into FILE.json when the sweep ends (or by himfmt merge report=FILE.json)")
    with console.progress("validating", elapsed=True) as bar:
        report = validate(str(cfg.root), layout, cfg.deep, int(cfg.workers), bar, shard)
    render(report, console.out, cfg.deep)
    if cfg.report:
        target = suffixed(Path(str(cfg.report)).resolve(), *shard)
        atomic_write(target, report.to_json().encode())
        console.err.print(f"report written to {target}")
    if cfg.html:
        with console.err.status("drawing the findings"):
            thumbs = finding_pictures(open_datasets(str(cfg.root), layout=layout),
                                      {(d.path, code): [(f.path, f.sample) for f in group] for d in report.datasets for code, group in d.groups()})
        atomic_write(Path(str(cfg.html)).resolve(), to_html(report, cfg.deep, thumbs).encode())
        console.err.print(f"HTML report written to {cfg.html}")
    return 1 if report.fails(str(cfg.fail_on)) else 0
