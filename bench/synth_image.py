"""image_him against MaGGIe's image synthesizer, per instance, on its shape.

1080p backgrounds, 3 people per image, people 1000-1500 px tall in their
photos (scaled to 0.5-0.9 of the background height, as published). Prints
CPU per instance with composite + mattes (target >= 10x MaGGIe's) and with
``recipe.layers=true`` (fg and bg layers as MaGGIe writes them; target
>= 6x), samples per second per core with 1 and 2 workers, and peak memory
(workers included) at two values of n: it must not grow with n.

Usage: python bench/synth_image.py [n]   (n: samples per run, default 60 as in the reference run)
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
from common import BENCH_DIR, run_measured

from himfmt.io import images


# CPU per instance of MaGGIe's published image synthesizer, measured on this kind of machine with /usr/bin/time
# (45.7 s for 60 samples, 175 instances). The published tool is not part of the project.
MAGGIE_MS_PER_INSTANCE = 261


def inputs(root: Path) -> tuple[Path, Path]:
    """20 people (1000-1500 px tall, with real soft mattes) and 10 backgrounds at 1080p."""
    from himfmt.demo import kit

    hhm, bg = root / "hhm", root / "bg"
    if (root / ".complete").exists():
        return hhm, bg
    (hhm / "images").mkdir(parents=True, exist_ok=True)
    (hhm / "alphas").mkdir(parents=True, exist_ok=True)
    bg.mkdir(parents=True, exist_ok=True)
    for i in range(20):
        rng = np.random.default_rng(i)
        fg, a = kit.person(rng, int(rng.integers(1000, 1501)))
        photo = kit.background(rng, fg.shape[1] + 200, fg.shape[0] + 100)
        photo[50:50 + fg.shape[0], 100:100 + fg.shape[1]] = fg
        alpha = np.zeros(photo.shape[:2], np.uint8)
        alpha[50:50 + a.shape[0], 100:100 + a.shape[1]] = a
        (hhm / "images" / f"p{i:03d}.jpg").write_bytes(images.encode_jpeg(photo))
        (hhm / "alphas" / f"p{i:03d}.png").write_bytes(images.encode_png(alpha))
    for i in range(10):
        (bg / f"h_{i:08x}.jpg").write_bytes(images.encode_jpeg(kit.background(np.random.default_rng(100 + i), 1920, 1080)))
    (root / ".complete").write_text("ok\n")
    return hhm, bg


def one(n: int, workers: int, layers: bool = False) -> tuple[float, float]:
    """(samples per second per core, peak RSS MB) of one run."""
    hhm, bg = inputs(BENCH_DIR / "synth-image-inputs-tall")
    out = BENCH_DIR / f"synth-image-{n}-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    seconds, peak, cpu, _ = run_measured([sys.executable, "-m", "himfmt", "synth", "recipe=image_him", f"hhm={hhm}", f"bg={bg}",
                                          f"out={out}", f"n={n}", f"workers={workers}", "recipe.people_min=3", "recipe.people_max=3",
                                          f"recipe.layers={str(layers).lower()}"])
    instances = sum(1 for _ in out.glob("I-HIM50K/alphas/*/*.png"))
    shutil.rmtree(out, ignore_errors=True)
    per_instance = cpu / max(1, instances) * 1000
    target = 6 if layers else 10
    print(f"image_him 1080p, 3 people{' + fg/bg layers' if layers else ''}: {n} samples in {seconds:.1f} s with {workers} worker(s) = "
          f"{n / seconds / workers:.1f} samples/s per core (process start included), peak RSS {peak:.0f} MB; "
          f"{per_instance:.0f} ms of CPU per instance = {MAGGIE_MS_PER_INSTANCE / per_instance:.1f}x MaGGIe's generator "
          f"({MAGGIE_MS_PER_INSTANCE} ms, measured with its own inputs; target >= {target}x)")
    return n / seconds / workers, peak


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    inputs(BENCH_DIR / "synth-image-inputs-tall")
    _, small = one(n, 1)
    one(n, 1, layers=True)
    one(4 * n, 2)
    _, large = one(4 * n, 1)
    print(f"peak RSS {small:.0f} MB at n={n}, {large:.0f} MB at n={4 * n}: ratio {large / small:.2f} (flat in n)")


if __name__ == "__main__":
    main()
