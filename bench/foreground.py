"""recipe.foreground: edge error against known truth, and what each mode costs.

Known truth: 20 demo-kit people 1000-1500 px tall, each shot in front of a
busy, saturated background (``a*F + (1-a)*B``, stored losslessly), and the
same people with their true F. image_him runs 50 samples (1080p
backgrounds) from the photos in each mode and once from the true F (the
ideal composites: the same draws, since draws depend on the mattes only).
Prints, per mode, the mean absolute RGB error of the composites against the
ideal over pixels whose matte is soft, the share of the photo's error
removed (targets: fast >= 50%, best >= 70%), and the run's CPU time against
photo's (target for best, cache included: <= 2x); then the CPU time of the
fast estimator alone on 1000-px people, one core (target <= 15 ms). Writes
docs/foreground-hairline.png: the same edge band of one sample in each mode.

Usage: python bench/foreground.py
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from himfmt.demo import kit
from himfmt.io import images

from common import BENCH_DIR, run_measured, trees

N = 50
MODES = ("photo", "fast", "best")
PICTURE = Path(__file__).resolve().parent.parent / "docs" / "foreground-hairline.png"


def inputs(root: Path) -> Path:
    """photos/ and clean/ hhm trees of the same 20 people, and bg/ with 10 backgrounds at 1080p."""
    if (root / ".complete").exists():
        return root
    for i in range(20):
        rng = np.random.default_rng(i)
        photo, matte, fg = trees.photographed(rng, int(rng.integers(1000, 1501)))
        for tree, picture in (("photos", photo), ("clean", fg)):
            (root / tree / "images").mkdir(parents=True, exist_ok=True)
            (root / tree / "alphas").mkdir(parents=True, exist_ok=True)
            (root / tree / "images" / f"p{i:03d}.png").write_bytes(images.encode_png(picture))
            (root / tree / "alphas" / f"p{i:03d}.png").write_bytes(images.encode_png(matte))
    (root / "bg").mkdir(parents=True, exist_ok=True)
    for i in range(10):
        (root / "bg" / f"h_{i:08x}.jpg").write_bytes(images.encode_jpeg(kit.background(np.random.default_rng(100 + i), 1920, 1080)))
    (root / ".complete").write_text("ok\n")
    return root


def synth(root: Path, tree: str, mode: str, out: Path) -> float:
    """CPU seconds of one image_him run of N samples, workers=1."""
    shutil.rmtree(out, ignore_errors=True)
    return run_measured(
        [
            sys.executable,
            "-m",
            "himfmt",
            "synth",
            "recipe=image_him",
            f"hhm={root / tree}",
            f"bg={root / 'bg'}",
            f"out={out}",
            f"n={N}",
            "workers=1",
            "recipe.jpeg_quality=100",
            f"recipe.foreground={mode}",
        ]
    ).cpu


def composites(out: Path) -> dict[str, tuple[np.ndarray, list[np.ndarray]]]:
    split = out / "I-HIM50K"
    return {
        p.stem: (
            images.decode_rgb(p.read_bytes(), p.name),
            [images.decode_gray(m.read_bytes(), m.name) for m in sorted((split / "alphas" / p.stem).iterdir())],
        )
        for p in sorted((split / "images").iterdir())
    }


def edge_error(got: dict[str, tuple[np.ndarray, list[np.ndarray]]], ideal: dict[str, tuple[np.ndarray, list[np.ndarray]]]) -> float:
    errors = []
    for stem, (want, mattes) in ideal.items():
        soft = np.any([(m > 0) & (m < 255) for m in mattes], axis=0)
        errors.append(np.abs(got[stem][0].astype(int) - want.astype(int))[soft])
    return float(np.concatenate(errors).mean())


def fast_ms(root: Path) -> float:
    """CPU ms of the fast estimator on one core, per 1000-px person (people cropped as image_him crops them)."""
    from himfmt.synthesis.foreground import blur_fusion
    from himfmt.synthesis.image_him import crop_person

    cv2.setNumThreads(1)
    spent, height = 0.0, 0
    for p in sorted((root / "photos" / "images").iterdir()):
        photo = images.decode_rgb(p.read_bytes(), p.name)
        fg, a = crop_person(photo, images.decode_gray((root / "photos" / "alphas" / p.name).read_bytes(), p.name), p.name)
        blur_fusion(fg, a)
        t = time.process_time()
        for _ in range(5):
            blur_fusion(fg, a)
        spent += (time.process_time() - t) / 5
        height += a.shape[0]
    return spent * 1000 / (height / 1000)


def picture(bands: dict[str, np.ndarray]) -> None:
    """The edge bands side by side, each under its mode's name."""
    w = sum(b.shape[1] for b in bands.values()) + 8 * (len(bands) + 1)
    h = max(b.shape[0] for b in bands.values()) + 26
    sheet = Image.new("RGB", (w, h), (24, 24, 24))
    draw, x = ImageDraw.Draw(sheet), 8
    for name, band in bands.items():
        draw.text((x, 6), name, fill=(235, 235, 235))
        sheet.paste(Image.fromarray(band), (x, 20))
        x += band.shape[1] + 8
    sheet.save(PICTURE, optimize=True)


def main() -> None:
    from himfmt.inspection.preview import edge_band

    root = inputs(BENCH_DIR / "foreground-inputs")
    ideal_out = BENCH_DIR / "foreground-ideal"
    synth(root, "clean", "photo", ideal_out)
    ideal = composites(ideal_out)
    cpu, error, bands = {}, {}, {}
    stem = next(iter(ideal))
    for mode in MODES:
        out = BENCH_DIR / f"foreground-{mode}"
        cpu[mode] = synth(root, "photos", mode, out)
        got = composites(out)
        error[mode] = edge_error(got, ideal)
        bands[mode] = edge_band(got[stem][0], ideal[stem][1], 320, zoom=4)
    bands["ideal"] = edge_band(ideal[stem][0], ideal[stem][1], 320, zoom=4)
    for mode in MODES:
        removed = 1 - error[mode] / error["photo"]
        target = {"fast": " (target >= 50%)", "best": " (target >= 70%)"}.get(mode, "")
        cost = {"best": " (target <= 2x, cache included)"}.get(mode, "")
        print(
            f"{mode:5s}: edge error {error[mode]:5.2f} grey levels, {removed:4.0%} of photo's removed{target}; "
            f"run of {N} samples {cpu[mode]:5.1f} s CPU = {cpu[mode] / cpu['photo']:.2f}x photo's{cost}"
        )
    print(f"fast estimator alone: {fast_ms(root):.1f} ms of CPU per 1000-px person on one core (target <= 15 ms)")
    picture({k: bands[k] for k in ("photo", "fast", "best", "ideal") if bands[k] is not None})
    print(f"wrote {PICTURE}")


if __name__ == "__main__":
    main()
