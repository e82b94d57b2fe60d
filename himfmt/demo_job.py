"""The demo job: an empty (or earlier demo) folder filled with the demo dataset config, plus contact sheets.

The data is exactly what ``himfmt fill dataset=demo`` makes; the demo adds a
marker (so a rerun may replace it and nothing else) and one preview sheet
per dataset.
"""
from __future__ import annotations

import io
import shutil
from pathlib import Path

from hydra import compose

from .errors import HimfmtError
from .fill_engine import fill
from .io.files import atomic_write
from .model import Dataset
from .overrides import normalize
from .preview import preview

MARKER = ".himfmt-demo"


def prepare_out(out: Path) -> None:
    """The demo writes into an empty folder or replaces a previous demo, nothing else."""
    if out.exists() and not out.is_dir():
        raise HimfmtError("exists and is not a directory", str(out))
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise HimfmtError("is not empty and was not made by himfmt demo; choose another out=", str(out))
        for child in out.iterdir():  # a previous demo (maybe of another seed): made anew, not resumed
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by himfmt demo\n")


PREVIEWS = ".previews"  # hidden: detection skips it, so the sheets are not taken for a background folder


def write_previews(out: Path, datasets: list[Dataset], n: int = 6) -> list[Path]:
    """One contact sheet per dataset of the demo."""
    paths = []
    for ds in datasets:
        sheet, _ = preview([ds], n=n)
        path = out / PREVIEWS / f"{(ds.path or 'root').replace('/', '_')}-{ds.layout}.png"
        buf = io.BytesIO()
        sheet.save(buf, "PNG")
        atomic_write(path, buf.getvalue())
        paths.append(path)
    return paths


def make(out: Path, seed: int) -> int:
    """Fill ``out`` with the demo dataset of ``seed``; returns the failures (0 when every split was made)."""
    prepare_out(out)
    _, failed = fill(compose("fill", normalize("fill", ["dataset=demo", f"out={out}", f"dataset.seed={seed}", "workers=1"])))
    return failed
