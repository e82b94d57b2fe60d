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

from himfmt.io import images

from common import BENCH_DIR, run_measured

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
        photo[50 : 50 + fg.shape[0], 100 : 100 + fg.shape[1]] = fg
        alpha = np.zeros(photo.shape[:2], np.uint8)
        alpha[50 : 50 + a.shape[0], 100 : 100 + a.shape[1]] = a
        (hhm / "images" / f"p{i:03d}.jpg").write_bytes(images.encode_jpeg(photo))
        (hhm / "alphas" / f"p{i:03d}.png").write_bytes(images.encode_png(alpha))
    for i in range(10):
        (bg / f"h_{i:08x}.jpg").write_bytes(images.encode_jpeg(kit.background(np.random.default_rng(100 + i), 1920, 1080)))
    (root / ".complete").write_text("ok\n")
    return hhm, bg


def codec_floor(out: Path, hhm: Path, bg: Path) -> float:
    """ms per instance spent only in the codecs and the published resize, on this run's own content.

    Per person: its JPEG and PNG decoded (people are drawn in turn from the
    20 inputs) and its alpha box resized with Pillow's bicubic to U(0.5, 0.9)
    of 1080 px, as published; per sample: one background decoded, and the
    written composite (JPEG q75) and mattes (PNG) encoded again.
    """
    import time

    import cv2
    from PIL import Image

    from himfmt.synthesis.motion import alpha_box

    def person(photo: Path) -> tuple[bytes, bytes, tuple[slice, slice]]:
        """A person's JPEG and PNG bytes and its alpha box (found here, outside the timing)."""
        png = (hhm / "alphas" / (photo.stem + ".png")).read_bytes()
        box = alpha_box(images.decode_gray(png, "matte"))
        assert box is not None, photo
        x0, y0, x1, y1 = box
        return photo.read_bytes(), png, (slice(y0, y1), slice(x0, x1))

    people = [person(p) for p in sorted((hhm / "images").glob("*.jpg"))]
    backgrounds = sorted(bg.glob("*.jpg"))
    rng = np.random.default_rng(0)
    spent, count = 0.0, 0
    for i, composite in enumerate(sorted((out / "I-HIM50K" / "images").glob("*.jpg"))):
        mattes = [cv2.imread(str(m), cv2.IMREAD_UNCHANGED) for m in sorted((out / "I-HIM50K" / "alphas" / composite.stem).glob("*.png"))]
        picture = cv2.imread(str(composite))
        background = backgrounds[i % len(backgrounds)].read_bytes()
        t = time.process_time()
        images.decode_rgb(background, "bg")
        for k in range(len(mattes)):
            jpg, png, box = people[(3 * i + k) % len(people)]
            photo, alpha = images.decode_rgb(jpg, "person"), images.decode_gray(png, "matte")
            h = round(1080 * rng.uniform(0.5, 0.9))
            size = (max(1, round((box[1].stop - box[1].start) * h / (box[0].stop - box[0].start))), h)
            for layer in (photo[box], alpha[box]):
                Image.fromarray(np.ascontiguousarray(layer)).resize(size, Image.Resampling.BICUBIC)
        images.encode_jpeg(picture, 75)
        for m in mattes:
            images.encode_png(m)
        spent += time.process_time() - t
        count += len(mattes)
    return spent / max(1, count) * 1000


def one(n: int, workers: int, layers: bool = False) -> tuple[float, float]:
    """(samples per second per core, peak RSS MB) of one run."""
    hhm, bg = inputs(BENCH_DIR / "synth-image-inputs-tall")
    out = BENCH_DIR / f"synth-image-{n}-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    seconds, peak, cpu, _ = run_measured(
        [
            sys.executable,
            "-m",
            "himfmt",
            "synth",
            "recipe=image_him",
            f"hhm={hhm}",
            f"bg={bg}",
            f"out={out}",
            f"n={n}",
            f"workers={workers}",
            "recipe.people_min=3",
            "recipe.people_max=3",
            f"recipe.layers={str(layers).lower()}",
        ]
    )
    instances = sum(1 for _ in out.glob("I-HIM50K/alphas/*/*.png"))
    floor = codec_floor(out, hhm, bg) if workers == 1 and not layers else None
    shutil.rmtree(out, ignore_errors=True)
    per_instance = cpu / max(1, instances) * 1000
    target = 6 if layers else 10
    floor_text = (
        f"; codecs + published resize alone {floor:.0f} ms per instance "
        f"(the target's {MAGGIE_MS_PER_INSTANCE / target:.0f} ms is {'under' if floor > MAGGIE_MS_PER_INSTANCE / target else 'over'} it)"
        if floor
        else ""
    )
    print(
        f"image_him 1080p, 3 people{' + fg/bg layers' if layers else ''}: {n} samples in {seconds:.1f} s with {workers} worker(s) = "
        f"{n / seconds / workers:.1f} samples/s per core (process start included), peak RSS {peak:.0f} MB; "
        f"{per_instance:.0f} ms of CPU per instance = {MAGGIE_MS_PER_INSTANCE / per_instance:.1f}x MaGGIe's generator "
        f"({MAGGIE_MS_PER_INSTANCE} ms, measured with its own inputs; target >= {target}x){floor_text}"
    )
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
