"""``himfmt preview``: a contact sheet of drawn samples."""

from __future__ import annotations

import io
from pathlib import Path

from himfmt.cli import console
from himfmt.errors import HimfmtError
from himfmt.inspection.preview import preview
from himfmt.io.files import atomic_write
from himfmt.layouts.detect import open_datasets
from himfmt.options import PreviewOptions

SUMMARY = "a contact sheet of drawn samples with their mattes and masks: root=DIR [out=FILE.png] [n=16]"


def run(cfg: PreviewOptions) -> int:
    datasets = open_datasets(cfg.root, layout=cfg.layout)
    if not datasets:
        raise HimfmtError("no dataset found", str(cfg.root))
    with console.err.status("drawing the contact sheet"):
        sheet, panels = preview(datasets, cfg.n, cfg.seed, cfg.split, cfg.sample, cfg.width, cfg.edges)
    if not panels:
        splits = sorted({s for ds in datasets for s in ds.splits})
        raise HimfmtError(
            "no sample matches"
            + (f" split={cfg.split}" if cfg.split else "")
            + (f" sample={cfg.sample}" if cfg.sample else "")
            + f"; its splits: {', '.join(splits)}",
            cfg.root,
        )
    buf = io.BytesIO()
    sheet.save(buf, "PNG")
    out = Path(cfg.out).resolve()
    atomic_write(out, buf.getvalue())
    rows = len({p.sample for p in panels})
    console.out.print(f"{out}: {rows} sample(s), {sheet.width}x{sheet.height}")
    return 0
