"""dvm against DVM's generator, per output frame, on the shape of DVM's test pair list.

The shape: two image foregrounds of 1200x2000 (shrunk to 1152x1920 and
walked over an upscaled bg window of 1382x1920), one 1080p video foreground
of 150 frames, backgrounds of 720p (as DVM's test clips) and 1080p. Each
output frame writes v, a, f, b JPEGs and the a_png lossless alpha. Prints
CPU per frame (the ratio to DVM's generator), frames/s on 2 cores, and peak
memory (workers included) at two clip lengths: it must not grow with clip
length.

Usage: python bench/synth_dvm.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

from himfmt.io import images

from common import BENCH_DIR, run_measured, trees

FRAMES = 150
BACKGROUNDS = ((1280, 720), (1280, 720), (1920, 1080))  # 0000, 0001: DVM's test clips are 720p; 0002: 1080p


def _panning(rng: np.random.Generator, path: Path, size: tuple[int, int], n: int, gray_alpha: np.ndarray | None = None) -> None:
    """A clip panning over a larger still (or, for an alpha, a moving matte)."""
    from himfmt.demo import kit

    w, h = size
    path.parent.mkdir(parents=True, exist_ok=True)
    still = kit.background(rng, w + n, h) if gray_alpha is None else None
    with trees.video_writer(path, w, h, alpha=gray_alpha is not None) as vw:
        for i in range(n):
            vw.write(np.roll(gray_alpha, 2 * i, axis=1) if gray_alpha is not None else np.ascontiguousarray(still[:, i : i + w]))


def _photo(rng: np.random.Generator, w: int, h: int, person_h: int) -> tuple[np.ndarray, np.ndarray]:
    """A w x h photo with one person of ``person_h`` pixels standing at the bottom, and its alpha."""
    from himfmt.demo import kit

    fg, a = kit.person(rng, person_h)
    photo, alpha = kit.background(rng, w, h), np.zeros((h, w), np.uint8)
    y, x = h - fg.shape[0] - 20, (w - fg.shape[1]) // 2
    photo[y : y + fg.shape[0], x : x + fg.shape[1]] = fg
    alpha[y : y + a.shape[0], x : x + a.shape[1]] = a
    return photo, alpha


def inputs(root: Path) -> Path:
    """2 image fgs of 1200x2000, 1 video fg of 1920x1080, bg videos of 150 frames (BACKGROUNDS)."""
    if (root / ".complete").exists():
        return root
    base = root / "fg" / "image" / "train"
    (base / "fg").mkdir(parents=True, exist_ok=True)
    (base / "alpha").mkdir(parents=True, exist_ok=True)
    for k in range(2):
        photo, alpha = _photo(np.random.default_rng(k), 1200, 2000, 1900)
        (base / "fg" / f"fg{k}.png").write_bytes(images.encode_png(photo))
        (base / "alpha" / f"fg{k}.png").write_bytes(images.encode_png(alpha))
    clip = root / "fg" / "video" / "train" / "0000"
    _, alpha = _photo(np.random.default_rng(6), 1920, 1080, 1000)
    _panning(np.random.default_rng(7), clip / "f.mp4", (1920, 1080), FRAMES)
    _panning(np.random.default_rng(8), clip / "a.mp4", (1920, 1080), FRAMES, gray_alpha=alpha)
    for b, size in enumerate(BACKGROUNDS):
        _panning(np.random.default_rng(10 + b), root / "bg" / "train" / f"{b:04d}.mp4", size, FRAMES)
    (root / ".complete").write_text("ok\n")
    return root


# CPU per output frame of DVM's published generator, measured on this kind of machine with /usr/bin/time on
# its test pair list shape. The published tool is not part of the project.
DVM_MS_PER_FRAME = 116

# Four image pairs (two on 720p, two on 1080p backgrounds) and two video pairs (720p, 1080p).
PAIRS = (
    "image+fg0.png+0000.mp4\nimage+fg1.png+0001.mp4\nimage+fg0.png+0002.mp4\nimage+fg1.png+0002.mp4\n"
    "video+0000+0000.mp4\nvideo+0000+0002.mp4\n"
)


def codec_floor(out: Path, source: Path) -> float:
    """ms per output frame spent only in the codecs: re-encoding every 10th written frame's v, a, f, b (JPEG
    q95) and a_png (PNG) with himfmt's encoders, plus decoding one frame of the bg clip each sequence reads."""
    import time

    import cv2

    from himfmt.io.video import iter_frames

    spent, n = 0.0, 0
    for seq in sorted((out / "v").iterdir()):
        bg = source / "bg" / "train" / (seq.name.rsplit("_", 1)[-1] + ".mp4")
        frames = iter_frames(str(bg))
        next(frames)  # opening the clip is not per frame
        for name in sorted(p.name for p in seq.iterdir())[::10]:
            pics = {
                d: cv2.imread(str(out / d / seq.name / name.replace(".jpg", ".png" if d == "a_png" else ".jpg")), cv2.IMREAD_UNCHANGED)
                for d in ("v", "a", "f", "b", "a_png")
            }
            t = time.process_time()
            next(frames)
            for d in ("v", "a", "f", "b"):
                images.encode_jpeg(pics[d], 95)
            images.encode_png(pics["a_png"])
            spent += time.process_time() - t
            n += 1
    return spent / max(1, n) * 1000


def one(workers: int, video_frames: int = 150) -> tuple[float, float]:
    """(output frames per second, peak RSS MB) of one run over the six pairs (4 image fgs, 2 video fgs)."""
    source = inputs(BENCH_DIR / "synth-dvm-inputs-dvmshape")
    (source / "train_pairs.txt").write_text(PAIRS)
    out = BENCH_DIR / f"synth-dvm-{workers}-{video_frames}"
    shutil.rmtree(out, ignore_errors=True)
    seconds, peak, cpu, _ = run_measured(
        [
            sys.executable,
            "-m",
            "himfmt",
            "synth",
            "recipe=dvm",
            f"source={source}",
            "phase=train",
            f"out={out}",
            f"workers={workers}",
            f"recipe.video_frames={video_frames}",
        ]
    )
    frames = sum(1 for _ in (out / "v").rglob("*.jpg"))
    floor = codec_floor(out, source)
    shutil.rmtree(out, ignore_errors=True)
    per_frame = cpu / max(1, frames) * 1000
    print(
        f"dvm: {frames} frames (v, a, f, b + a_png each) in {seconds:.1f} s with {workers} worker(s) = "
        f"{frames / seconds:.1f} frames/s, peak RSS {peak:.0f} MB (process start included); {per_frame:.0f} ms of CPU "
        f"per frame = {DVM_MS_PER_FRAME / per_frame:.1f}x DVM's generator ({DVM_MS_PER_FRAME} ms; target >= 3x); "
        f"codec floor (4 JPEG + 1 PNG encodes, 1 bg decode) {floor:.0f} ms per frame"
    )
    return frames / seconds, peak


def main() -> None:
    inputs(BENCH_DIR / "synth-dvm-inputs-dvmshape")
    fps, _ = one(2)
    print(f"{fps:.1f} frames/s on 2 cores; target >= 25")
    _, short = one(1, 50)
    _, long = one(1, 150)
    print(f"peak RSS {short:.0f} MB at 50 video frames, {long:.0f} MB at 150: ratio {long / short:.2f} (flat in clip length)")


if __name__ == "__main__":
    main()
