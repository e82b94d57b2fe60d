"""``himfmt convert``: one layout to another, safely, with every loss stated."""
from __future__ import annotations


from omegaconf import DictConfig
from rich.markup import escape
from rich.table import Table

from ..io.pool import worker_count
from .. import console
from ..convert import Job, Summary, convert

SUMMARY = "rewrite src=DIR as to=LAYOUT in dst=DIR (copy/hardlink/symlink, resumable, lossy steps stated)"


def show(summary: Summary, job: Job, dry_run: bool) -> None:
    r = summary.route
    title = f"{'plan' if dry_run else 'converted'}: {r.src} -> {r.dst}"
    table = Table(title=title, show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("samples", str(summary.samples))
    if summary.skipped:
        table.add_row("already done (resumed)", str(summary.skipped))
    for how, n in sorted(summary.files.items()):
        table.add_row(f"files {how}", str(n))
    table.add_row("bytes" + (" (known sources)" if dry_run else ""), f"{summary.bytes:,}")
    if summary.failed:
        table.add_row("failed samples", str(len(summary.failed)))
    console.out.print(table)
    if summary.renamed:
        console.out.print(f"  renamed: {summary.renamed} samples are written as <split>_<id>: their splits share "
                          f"one namespace in {r.dst}")
    if summary.replaced:
        console.warn(f"replaced an earlier, different conversion: removed {summary.replaced} of its files")
    if summary.fallback_to_copy:
        console.warn(f"{summary.fallback_to_copy} files were copied: hard links cannot cross file systems")
    for step in r.lossy:
        console.out.print(f"  lossy: {escape(step)}")
    if summary.matte_error:
        mean, worst = summary.matte_error
        console.out.print(f"  measured matte error after encoding: mean {mean:.2f}, max {worst} grey levels (on up to 20 mattes)")
    for key, message in summary.failed[:10]:
        console.error(f"{key}: {message}")
    if len(summary.failed) > 10:
        console.error(f"... and {len(summary.failed) - 10} more failed samples")
    if not dry_run:
        console.out.print(f"next: himfmt validate {job.dst}")


def run(cfg: DictConfig) -> int:
    trimap = (int(cfg.trimap[0]), int(cfg.trimap[1])) if cfg.trimap else None
    job = Job(str(cfg.src), str(cfg.dst), str(cfg.to), str(cfg.mode), int(cfg.frame_step), cfg.png_alpha,
              trimap, worker_count(cfg.workers), int(cfg.shard.index), int(cfg.shard.count))
    frm = None if cfg["from"] == "auto" else str(cfg["from"])
    with console.progress("converting") as bar:
        summary = convert(job, frm, cfg.overwrite, cfg.dry_run, bar)
    show(summary, job, cfg.dry_run)
    return 1 if summary.failed else 0
