"""``himfmt masks``: add a guidance mask set or trimaps to an existing tree."""

from __future__ import annotations

from rich.table import Table

from himfmt.cli import console
from himfmt.derived.sets import Result, spec_from, write
from himfmt.errors import HimfmtError
from himfmt.io.pool import worker_count
from himfmt.layouts.detect import open_datasets
from himfmt.options import MasksOptions

SUMMARY = "add a guidance mask set or trimaps to a tree: root=DIR source=NAME [mask=detector|xmem] [kind=trimap]"


def run(cfg: MasksOptions) -> int:
    kind = cfg.kind.value
    if kind == "mask" and not cfg.source:
        raise HimfmtError("source= is required: the name of the mask dir to add (e.g. masks_matched_r50_fpn_3x, xmem)")
    spec = spec_from(cfg.seed, cfg.trimap, cfg.source, cfg.mask, kind)
    found = open_datasets(cfg.root, layout=cfg.layout)
    if not found:
        raise HimfmtError("no dataset found", cfg.root)
    splits = [cfg.split] if cfg.split else None
    table = Table(title=f"himfmt masks: {kind} {spec.source}".rstrip())
    for col in ("dataset", "layout", "written", "already there", "no place", "failed"):
        table.add_column(col, justify="left" if col in ("dataset", "layout") else "right")
    failed = 0
    for ds in found:
        with console.progress(f"{kind} {ds.path or '.'}") as bar:
            res: Result = write(ds, spec, splits, cfg.overwrite, worker_count(cfg.workers), bar, (cfg.shard.index, cfg.shard.count))
        table.add_row(ds.path or ".", ds.layout, str(res.written), str(res.kept), str(res.no_place), str(len(res.failed)))
        for where, message in res.failed[:10]:
            console.error(message if where in message else f"{where}: {message}")
        failed += len(res.failed)
    console.show(table)
    return 1 if failed else 0
