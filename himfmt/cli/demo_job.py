"""The demo job: an empty (or earlier demo) folder filled with the demo dataset config, plus contact sheets.

The data is exactly what ``himfmt fill dataset=demo`` makes; the demo adds a
marker (so a rerun may replace it and nothing else) and one preview sheet
per dataset.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from himfmt.cli.voice import VOICE
from himfmt.composition import compose_config, normalize
from himfmt.errors import HimfmtError
from himfmt.generation.engine import fill
from himfmt.inspection.preview import preview
from himfmt.io.files import RECORD_DIR, atomic_write
from himfmt.model import Dataset

MARKER = ".himfmt-demo"


def prepare_out(out: Path, own: set[str], overwrite: bool) -> None:
    """The demo writes into an empty folder or over a previous demo, and replaces only what a demo makes.

    ``own``: the top-level names the demo writes. Anything else in ``out`` (the
    user's notes, a conversion of their own) stops the demo with one line,
    unless ``overwrite``; it is never deleted either way.
    """
    if out.exists() and not out.is_dir():
        raise HimfmtError("exists and is not a directory", str(out))
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).exists() and not overwrite:
            raise HimfmtError(
                "is not empty and was not made by himfmt demo; choose another out= "
                "(or overwrite=true to add the demo beside what is there)",
                str(out),
            )
        _only_demo(out, own, overwrite)
        for child in out.iterdir():  # a previous demo (maybe of another seed): made anew, not resumed
            if child.name in own:
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by himfmt demo\n")


def _only_demo(out: Path, own: set[str], overwrite: bool) -> None:
    others = sorted(p.name for p in out.iterdir() if p.name not in own)
    if others and not overwrite:
        raise HimfmtError(
            f"holds {len(others)} name(s) the demo did not make "
            f"({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}); move them, "
            "or pass overwrite=true to keep them beside the demo",
            str(out),
        )


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


def make(out: Path, seed: int, overwrite: bool = False) -> int:
    """Fill ``out`` with the demo dataset of ``seed``; returns the failures (0 when every split was made)."""
    cfg = compose_config("fill", normalize("fill", ["dataset=demo", f"out={out}", f"dataset.seed={seed}", "workers=1"]))
    own = {str(s.path).split("/")[0] for s in cfg.dataset.splits.values()} | {MARKER, PREVIEWS, RECORD_DIR}
    prepare_out(out, own, overwrite)
    _, failed = fill(cfg, VOICE)
    return failed
