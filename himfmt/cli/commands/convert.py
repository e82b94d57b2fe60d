"""``himfmt convert``: one layout to another, safely, with every loss stated."""

from __future__ import annotations

from himfmt.cli import console, views
from himfmt.cli.console import safe
from himfmt.conversion.job import Job, Summary, convert
from himfmt.io.pool import worker_count
from himfmt.layouts import LAYOUTS
from himfmt.options import ConvertOptions

SUMMARY = "rewrite src=DIR as to=LAYOUT in dst=DIR (copy/hardlink/symlink, resumable, lossy steps stated)"


def show(summary: Summary, job: Job) -> None:
    views.show(summary, console.out)
    for line in summary.warnings():
        console.warn(line)
    for key, message in summary.failed[:10]:
        console.error(f"{key}: {message}")
    if len(summary.failed) > 10:
        console.error(f"... and {len(summary.failed) - 10} more failed samples")
    if not summary.dry_run:
        console.out.print(f"next: himfmt validate {safe(job.dst)}")


def run(cfg: ConvertOptions) -> int:
    job = Job(
        cfg.src,
        cfg.dst,
        cfg.to,
        cfg.mode.value,
        cfg.frame_step,
        cfg.png_alpha,
        cfg.trimap,
        worker_count(cfg.workers),
        cfg.shard.index,
        cfg.shard.count,
    )
    frm = None if cfg.from_layout == "auto" else cfg.from_layout
    with console.progress("converting") as bar:
        summary = convert(job, frm, cfg.overwrite, cfg.dry_run, bar, afresh=cfg.overwrite)
    show(summary, job)
    return 1 if summary.failed else 0


def help_extra() -> str:
    """The names to= takes, from the layout registry (plugins included)."""
    return console.hang("Layouts (to=NAME, from=NAME):\n" + "\n".join(f"  {name}: {lay.description}" for name, lay in LAYOUTS.items()))
