"""``himfmt demo``: the main job on built-in, procedurally generated data."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from omegaconf import DictConfig

from .. import console
from ..convert import Job, convert
from ..cli import normalize
from ..demo.build import SYNTH_RUNS, build
from ..detect import detect
from ..errors import HimfmtError
from ..io.tree import Tree
from ..validate import validate
from ..validate.report import render
from .detect_cmd import describe, report_problems, summary_table
from .synth_cmd import synthesize

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


def synthesize_demo(out: Path, seed: int) -> int:
    """Each of the demo's data trees from its sources, by one ``himfmt synth`` run; returns failures."""
    from hydra import compose

    path_keys = ("hhm=", "bg=", "clips=", "source=", "out=")
    failed = 0
    for name, overrides in SYNTH_RUNS:
        args = [f"{o.split('=', 1)[0]}={out / o.split('=', 1)[1]}" if o.startswith(path_keys) else o for o in overrides]
        cfg = compose("synth", normalize("synth", [*args, f"seed={seed}", "workers=1", "overwrite=true"]))
        for plan, result in synthesize(cfg):
            failed += len(result.failed)
            console.out.print(f"synthesized {name}: {plan.recipe.name} -> {plan.layout} {plan.split}, "
                              f"{result.written + result.skipped} samples")
    return failed


def run(cfg: DictConfig) -> int:
    out = Path(cfg.out).resolve()
    prepare_out(out)
    start = time.perf_counter()
    with console.err.status("building demo sources") as status:
        build(out, seed=int(cfg.seed), progress=lambda name: status.update(f"writing {name}"))
    failed = synthesize_demo(out, int(cfg.seed))
    with console.err.status("converting I-HIM50K to the val layout"):
        conv = convert(Job(str(out / "data" / "I-HIM50K"), str(out / "converted" / "I-HIM50K_as_val"), "maggie_image_val", mode="hardlink"))
    console.out.print(f"converted {conv.samples} samples: {conv.route.src} -> {conv.route.dst} (hard links)")
    tree = Tree(out)
    found = detect(tree)
    rows = [describe(ds) for ds in found.datasets()]
    console.out.print(summary_table(rows, f"himfmt demo: {len(rows)} datasets in {out}"))
    rc = report_problems(found)
    with console.err.status("validating every file (deep)"):
        report = validate(str(out), deep_pass=True)
    render(report, console.out, deep=True)
    console.out.print(f"done in {time.perf_counter() - start:.1f} s; try: himfmt validate {out} html=report.html")
    return max(rc, 1 if report.fails("warning") or failed else 0)
