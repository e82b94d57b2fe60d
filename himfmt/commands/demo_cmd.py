"""``himfmt demo``: the main job on built-in, procedurally generated data."""
from __future__ import annotations

import io
import shutil
import time
from pathlib import Path

from omegaconf import DictConfig

from .. import console
from ..overrides import normalize
from ..detect import detect
from ..errors import HimfmtError
from ..io.files import atomic_write
from ..io.tree import Tree
from ..model import Dataset
from ..preview import preview
from ..validate import validate
from ..validate.report import render
from .detect_cmd import describe, report_problems, summary_table
from ..fill_engine import fill

SUMMARY = "build a small dataset of every layout from built-in assets [out=DIR]"
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


def run(cfg: DictConfig) -> int:
    from hydra import compose

    out = Path(cfg.out).resolve()
    prepare_out(out)
    start = time.perf_counter()
    _, failed = fill(compose("fill", normalize("fill", ["dataset=demo", f"out={out}", f"dataset.seed={int(cfg.seed)}", "workers=1"])))
    tree = Tree(out)
    found = detect(tree)
    rows = [describe(ds) for ds in found.datasets()]
    console.out.print(summary_table(rows, f"himfmt demo: {len(rows)} datasets in {out}"))
    rc = report_problems(found)
    with console.err.status("drawing preview sheets"):
        sheets = write_previews(out, found.datasets())
    console.out.print("preview sheets (look at them):\n" + "\n".join(f"  {p}" for p in sheets))
    with console.err.status("validating every file (deep)"):
        report = validate(str(out), deep_pass=True)
    render(report, console.out, deep=True)
    console.out.print(f"done in {time.perf_counter() - start:.1f} s; try: himfmt validate {out} html=report.html")
    return max(rc, 1 if report.fails("warning") or failed else 0)
