"""Issue 5 targets.

1. maggie_image_train -> maggie_image_val, 50,000 images x 3 instances, hardlink mode:
   >= 10,000 files per second on 2 cores (copy mode is printed too).
2. maggie_video -> dvm_composed at 1080p: >= 40 frames per second on 2 cores.

Usage: python bench/convert.py [n_images] [n_1080p_frames]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from himfmt.conversion.job import Job, convert
from himfmt.io import images

from common import BENCH_DIR, peak_rss_mb, tiny_train_tree


def hd_video_tree(root: Path, n_frames: int, n_videos: int = 4) -> Path:
    done = root / ".complete"
    if done.exists():
        return root
    yy, xx = np.mgrid[0:1080, 0:1920]
    for v in range(n_videos):
        for f in range(n_frames // n_videos):
            img = np.dstack([(xx + f) % 256, (yy + v) % 256, np.full_like(xx, 80)]).astype(np.uint8)
            (root / f"s/fgr/{v:05d}").mkdir(parents=True, exist_ok=True)
            (root / f"s/fgr/{v:05d}/{f:05d}.jpg").write_bytes(images.encode_jpeg(img))
            inst = root / f"s/pha/{v:05d}/{f:05d}"
            inst.mkdir(parents=True, exist_ok=True)
            for k in range(2):
                d = np.hypot((yy - 600) / 2.0, xx - (600 + 700 * k + 3 * f))
                (inst / f"{k:02d}.png").write_bytes(images.encode_png(np.clip((250 - d) * 3, 0, 255).astype(np.uint8)))
    done.write_text("ok\n")
    return root


def timed(job: Job) -> tuple[float, object]:
    shutil.rmtree(job.dst, ignore_errors=True)
    t = time.perf_counter()
    summary = convert(job)
    return time.perf_counter() - t, summary


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    n_frames = int(sys.argv[2]) if len(sys.argv) > 2 else 240
    workers = os.cpu_count() or 1
    src = tiny_train_tree(BENCH_DIR / f"scan-{n}", n)
    for mode, runs in (("hardlink", 3), ("copy", 1)):
        rates = []
        for _ in range(runs):
            subprocess.run(["sync"], check=False)  # do not time the previous run's writeback
            seconds, s = timed(Job(str(src), str(BENCH_DIR / f"convert-{mode}"), "maggie_image_val", mode=mode, workers=workers))
            rates.append(sum(s.files.values()) / seconds)
        print(
            f"train -> val, {mode}: 200,000 files; runs {', '.join(f'{r:,.0f}' for r in rates)} files/s; "
            f"median {statistics.median(rates):,.0f} ({workers} workers, sha256 record included)"
            f"{'; target >= 10,000' if mode == 'hardlink' else ''}"
        )
    vsrc = hd_video_tree(BENCH_DIR / f"convert-video-{n_frames}", n_frames)
    seconds, s = timed(Job(str(vsrc), str(BENCH_DIR / "convert-dvm"), "dvm_composed", workers=workers))
    frames = n_frames // 4 * 4
    print(
        f"maggie_video -> dvm_composed 1080p: {frames} frames in {seconds:.1f} s = {frames / seconds:.1f} frames/s "
        f"on {workers} workers; target >= 40"
    )
    print(f"peak RSS (main process) {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
