"""Issue 4 targets.

1. Structure pass (names + image headers) over a 50,000-image maggie_image_train tree
   with 3 instances each: <= 8 s warm on 2 cores.
2. Deep pass (every file decoded) on 1080p content: >= 200 files per second per core (issue 19),
   printed beside the rate at which one core only decodes the same files.

Usage: python bench/validate.py [n_images] [n_1080p_images]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from himfmt.io import images
from himfmt.validation import validate

from common import BENCH_DIR, best_of, peak_rss_mb, tiny_train_tree


def hd_train_tree(root: Path, n: int) -> Path:
    """n 1080p images with 3 soft mattes each (real content, so decoding costs what it should)."""
    done = root / ".complete"
    if done.exists():
        return root
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:1080, 0:1920]
    base = ((xx // 8 + yy // 8) % 256).astype(np.uint8)
    for i in range(n):
        img = np.dstack([base, np.roll(base, i, 0), np.roll(base, 3 * i, 1)])
        img = (img + rng.integers(0, 20, img.shape, dtype=np.uint8)).astype(np.uint8)
        (root / "s/images").mkdir(parents=True, exist_ok=True)
        (root / f"s/images/{i:05d}.jpg").write_bytes(images.encode_jpeg(img))
        inst = root / f"s/alphas/{i:05d}"
        inst.mkdir(parents=True, exist_ok=True)
        for k in range(3):
            d = np.hypot((yy - 600) / 2.0, xx - (400 + 550 * k + i % 50))
            a = np.clip((250 - d) * 3, 0, 255).astype(np.uint8)
            (inst / f"{k:02d}.png").write_bytes(images.encode_png(a))
    done.write_text("ok\n")
    return root


def floor(root: Path) -> int:
    """What any structure check must do at least: list every folder, stat every file, read its first bytes."""
    files = 0
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as it:
            for e in it:
                if e.is_dir():
                    stack.append(e.path)
                else:
                    e.stat()
                    fd = os.open(e.path, os.O_RDONLY)
                    os.read(fd, 64)
                    os.close(fd)
                    files += 1
    return files


def decode_floor(root: Path) -> float:
    """Files per second one core decodes with OpenCV alone (read, then decode, nothing checked; the
    allocator tuned as in himfmt's workers): what any check that looks at every pixel pays at least."""
    import cv2

    from himfmt.io.memory import tune_malloc

    tune_malloc()
    paths = sorted(p for p in root.rglob("*") if p.suffix in (".jpg", ".png"))
    t = time.process_time()
    for p in paths:
        cv2.imdecode(np.frombuffer(p.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    return len(paths) / (time.process_time() - t)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    n_hd = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    root = tiny_train_tree(BENCH_DIR / f"scan-{n}", n)
    seconds, report = best_of(lambda: validate(str(root)))
    files = report.datasets[0].files
    print(
        f"structure pass: {seconds:.2f} s warm (best of 3) for {n} images, {files} files with headers read; "
        f"{len(report.findings)} findings; target <= 8 s"
    )
    base, listed = best_of(lambda: floor(root))
    print(
        f"filesystem + header floor (scandir, stat, open and read 64 bytes of each of {listed} files): {base:.2f} s; "
        f"the structure pass is {seconds / base:.2f}x it; target <= 1.5x"
    )
    if n_hd <= 0:
        return
    hd = hd_train_tree(BENCH_DIR / f"validate-hd-{n_hd}", n_hd)
    workers = os.cpu_count() or 1
    validate(str(hd), deep_pass=True, workers=workers)  # warm the page cache
    t = time.perf_counter()
    report = validate(str(hd), deep_pass=True, workers=workers)
    seconds = time.perf_counter() - t
    decoded = n_hd * 4
    floor_rate = decode_floor(hd)
    print(
        f"deep pass 1080p: {decoded} files in {seconds:.2f} s on {workers} workers = "
        f"{decoded / seconds / workers:.0f} files/s per core; {len(report.findings)} findings; target >= 200; "
        f"decoding alone (OpenCV, one core, the same files): {floor_rate:.0f} files/s"
    )
    print(f"peak RSS (main process) {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
