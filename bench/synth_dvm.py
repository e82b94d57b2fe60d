"""Issue 6 target: dvm at 1080p, >= 25 output frames per second on 2 cores (each frame
writes v, a, f, b JPEGs and the a_png lossless alpha). Also prints peak memory
(workers included) for two clip lengths: it must not grow with clip length.

Usage: python bench/synth_dvm.py
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
from common import BENCH_DIR, run_measured

from himfmt.io import images
from himfmt.io.video import VideoWriter

W, H, FRAMES = 1920, 1080, 150


def _panning(rng: np.random.Generator, path: Path, n: int, gray_alpha: np.ndarray | None = None) -> None:
    """A 1080p clip panning over a larger still (or, for an alpha, a moving matte)."""
    from himfmt.demo import kit

    path.parent.mkdir(parents=True, exist_ok=True)
    still = kit.background(rng, W + n, H) if gray_alpha is None else None
    with VideoWriter.at_path(path, W, H, alpha=gray_alpha is not None) as vw:
        for i in range(n):
            vw.write(np.roll(gray_alpha, 2 * i, axis=1) if gray_alpha is not None else np.ascontiguousarray(still[:, i:i + W]))


def inputs(root: Path) -> Path:
    """2 image fgs and 1 video fg at 1920x1080 (a person about 900 px tall), 3 bg videos of 150 frames."""
    from himfmt.demo import kit

    if (root / ".complete").exists():
        return root
    base = root / "fg" / "image" / "train"
    for k in range(2):
        rng = np.random.default_rng(k)
        fg, a = kit.person(rng, 900)
        photo, alpha = kit.background(rng, W, H), np.zeros((H, W), np.uint8)
        y, x = H - fg.shape[0] - 40, (W - fg.shape[1]) // 2
        photo[y:y + fg.shape[0], x:x + fg.shape[1]] = fg
        alpha[y:y + a.shape[0], x:x + a.shape[1]] = a
        (base / "fg").mkdir(parents=True, exist_ok=True)
        (base / "alpha").mkdir(parents=True, exist_ok=True)
        (base / "fg" / f"fg{k}.png").write_bytes(images.encode_png(photo))
        (base / "alpha" / f"fg{k}.png").write_bytes(images.encode_png(alpha))
    clip = root / "fg" / "video" / "train" / "0000"
    _panning(np.random.default_rng(7), clip / "f.mp4", FRAMES)
    _panning(np.random.default_rng(8), clip / "a.mp4", FRAMES, gray_alpha=alpha)
    for b in range(3):
        _panning(np.random.default_rng(10 + b), root / "bg" / "train" / f"{b:04d}.mp4", FRAMES)
    (root / ".complete").write_text("ok\n")
    return root


# CPU per output frame of DVM's published generator, measured on this kind of machine with /usr/bin/time on
# its test pair list shape. The published tool is not part of the project.
DVM_MS_PER_FRAME = 116

PAIRS = "".join(f"image+fg{k % 2}.png+{k % 3:04d}.mp4\n" for k in range(4)) + "video+0000+0001.mp4\nvideo+0000+0002.mp4\n"


def one(workers: int, video_frames: int = 150) -> tuple[float, float]:
    """(output frames per second, peak RSS MB) of one run over the six pairs (4 image fgs, 2 video fgs)."""
    source = inputs(BENCH_DIR / "synth-dvm-inputs")
    (source / "train_pairs.txt").write_text(PAIRS)
    out = BENCH_DIR / f"synth-dvm-{workers}-{video_frames}"
    shutil.rmtree(out, ignore_errors=True)
    seconds, peak, cpu, _ = run_measured([sys.executable, "-m", "himfmt", "synth", "recipe=dvm", f"source={source}", "phase=train",
                                          f"out={out}", f"workers={workers}", f"recipe.video_frames={video_frames}"])
    frames = sum(1 for _ in (out / "v").rglob("*.jpg"))
    shutil.rmtree(out, ignore_errors=True)
    per_frame = cpu / max(1, frames) * 1000
    print(f"dvm 1080p: {frames} frames (v, a, f, b + a_png each) in {seconds:.1f} s with {workers} worker(s) = "
          f"{frames / seconds:.1f} frames/s, peak RSS {peak:.0f} MB (process start included); {per_frame:.0f} ms of CPU "
          f"per frame = {DVM_MS_PER_FRAME / per_frame:.1f}x DVM's generator ({DVM_MS_PER_FRAME} ms; target >= 3x)")
    return frames / seconds, peak


def main() -> None:
    inputs(BENCH_DIR / "synth-dvm-inputs")
    fps, _ = one(2)
    print(f"{fps:.1f} frames/s on 2 cores; target >= 25")
    _, short = one(1, 50)
    _, long = one(1, 150)
    print(f"peak RSS {short:.0f} MB at 50 video frames, {long:.0f} MB at 150: ratio {long / short:.2f} (flat in clip length)")


if __name__ == "__main__":
    main()
