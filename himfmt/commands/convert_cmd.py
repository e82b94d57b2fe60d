"""``himfmt convert``: one layout to another, safely, with every loss stated."""
from __future__ import annotations


from omegaconf import DictConfig

from ..io.pool import worker_count
from .. import console
from ..convert import Job, Summary, convert
from ..layouts import LAYOUTS
from ..text import safe

SUMMARY = "rewrite src=DIR as to=LAYOUT in dst=DIR (copy/hardlink/symlink, resumable, lossy steps stated)"


def show(summary: Summary, job: Job) -> None:
    console.out.print(summary)
    for line in summary.warnings():
        console.warn(line)
    for key, message in summary.failed[:10]:
        console.error(f"{key}: {message}")
    if len(summary.failed) > 10:
        console.error(f"... and {len(summary.failed) - 10} more failed samples")
    if not summary.dry_run:
        console.out.print(f"next: himfmt validate {safe(job.dst)}")


def run(cfg: DictConfig) -> int:
    trimap = (int(cfg.trimap[0]), int(cfg.trimap[1])) if cfg.trimap else None
    job = Job(str(cfg.src), str(cfg.dst), str(cfg.to), str(cfg.mode), int(cfg.frame_step), cfg.png_alpha,
              trimap, worker_count(cfg.workers), int(cfg.shard.index), int(cfg.shard.count))
    frm = None if cfg["from"] == "auto" else str(cfg["from"])
    with console.progress("converting") as bar:
        summary = convert(job, frm, cfg.overwrite, cfg.dry_run, bar, afresh=cfg.overwrite)
    show(summary, job)
    return 1 if summary.failed else 0


def help_extra() -> str:
    """The names to= takes, from the layout registry (plugins included)."""
    return console.hang("Layouts (to=NAME, from=NAME):\n" + "\n".join(f"  {name}: {lay.description}" for name, lay in LAYOUTS.items()))
