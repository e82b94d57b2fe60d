"""``himfmt validate``: find every problem that would crash or corrupt training."""
from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from .. import console
from ..errors import HimfmtError
from ..io.files import atomic_write
from ..validate import validate
from ..validate.catalog import RANK
from ..validate.report import render, to_html

SUMMARY = "check root=DIR against its layout's schema and content rules [deep=true] [report=FILE.json]"


def run(cfg: DictConfig) -> int:
    if cfg.fail_on not in RANK:
        raise HimfmtError(f"fail_on must be one of {', '.join(RANK)}, not {cfg.fail_on!r}")
    layout = None if cfg.layout == "auto" else str(cfg.layout)
    with console.progress("validating", elapsed=True) as bar:
        report = validate(str(cfg.root), layout, bool(cfg.deep), int(cfg.workers), lambda label, total: bar(total, label))
    render(report, console.out, bool(cfg.deep))
    if cfg.report:
        atomic_write(Path(str(cfg.report)).resolve(), report.to_json().encode())
        console.err.print(f"report written to {cfg.report}")
    if cfg.html:
        atomic_write(Path(str(cfg.html)).resolve(), to_html(report, bool(cfg.deep)).encode())
        console.err.print(f"HTML report written to {cfg.html}")
    return 1 if report.fails(str(cfg.fail_on)) else 0
