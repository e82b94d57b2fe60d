"""``himfmt preview``: a contact sheet of drawn samples."""
from __future__ import annotations

import io
from pathlib import Path

from omegaconf import DictConfig

from .. import console
from ..detect import open_datasets
from ..errors import HimfmtError
from ..io.files import atomic_write
from ..preview import preview

SUMMARY = "a contact sheet of drawn samples with their mattes and masks: root=DIR [out=FILE.png] [n=16]"


def run(cfg: DictConfig) -> int:
    datasets = open_datasets(str(cfg.root), layout=cfg.layout)
    if not datasets:
        raise HimfmtError("no dataset found", str(cfg.root))
    with console.err.status("drawing the contact sheet"):
        sheet, panels = preview(datasets, int(cfg.n), int(cfg.seed), cfg.split, None if cfg.sample is None else str(cfg.sample),
                                int(cfg.width), cfg.edges is True)
    if not panels:
        splits = sorted({s for ds in datasets for s in ds.splits})
        raise HimfmtError("no sample matches" + (f" split={cfg.split}" if cfg.split else "") + (f" sample={cfg.sample}" if cfg.sample else "")
                          + f"; its splits: {', '.join(splits)}", str(cfg.root))
    buf = io.BytesIO()
    sheet.save(buf, "PNG")
    out = Path(str(cfg.out)).resolve()
    atomic_write(out, buf.getvalue())
    rows = len({p.sample for p in panels})
    console.out.print(f"{out}: {rows} sample(s), {sheet.width}x{sheet.height}")
    return 0
