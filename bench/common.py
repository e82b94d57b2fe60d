"""Shared helpers for the benchmarks: big trees of tiny real files, timing, peak memory."""

from __future__ import annotations

import importlib
import os
import resource
import sys
import time
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from himfmt.io import images

BENCH_DIR = Path(os.environ.get("HIMFMT_BENCH_DIR", "/tmp/himfmt-bench"))
# The test suite's tree helpers (video_writer, photographed) serve the benchmarks too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
trees = importlib.import_module("trees")


def tiny_train_tree(root: Path, n_images: int = 50_000, n_inst: int = 3, split: str = "I-HIM50K") -> Path:
    """A maggie_image_train tree of tiny real files; reused if already complete."""
    done = root / ".complete"
    if done.exists():
        return root
    jpg = images.encode_jpeg(np.full((8, 8, 3), 128, np.uint8))
    png = images.encode_png(np.full((8, 8), 200, np.uint8))
    img_dir = root / split / "images"
    img_dir.mkdir(parents=True, exist_ok=True)
    for i in range(n_images):
        stem = f"{i:06d}"
        (img_dir / f"{stem}.jpg").write_bytes(jpg)
        inst = root / split / "alphas" / stem
        inst.mkdir(parents=True, exist_ok=True)
        for k in range(n_inst):
            (inst / f"{k:02d}.png").write_bytes(png)
    done.write_text("ok\n")
    return root


def best_of(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """Fastest wall time of ``repeat`` runs (warm cache after the first), and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


class Measured(NamedTuple):
    seconds: float  # wall time
    peak_mb: float  # peak RSS of its largest process, workers included
    cpu: float  # user + system CPU seconds of the command and all its workers
    out: str  # its stdout


def run_measured(cmd: list[str]) -> Measured:
    """Run ``cmd`` and measure it as ``/usr/bin/time`` would.

    A small wrapper process reports ``RUSAGE_CHILDREN`` for this command
    alone, so runs measured one after another do not mix their figures.
    """
    import subprocess
    import sys

    probe = (
        "import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "sys.stdout.write(p.stdout); sys.stderr.write(p.stderr); r = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(r.ru_maxrss, r.ru_utime + r.ru_stime); sys.exit(p.returncode)"
    )
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(proc.stderr or proc.stdout)
    out, _, last = proc.stdout.rstrip().rpartition("\n")
    peak, cpu = last.split()
    return Measured(seconds, int(peak) / 1024, float(cpu), out)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
