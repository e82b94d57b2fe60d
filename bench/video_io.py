"""Issue 3 target: stream a 1080p f.mp4 + a.mp4 pair into model frames and write it as
dvm_composed; frames per second and peak RSS for 100 and 300 frames. Peak RSS must not
grow with clip length (300-frame peak <= 1.2x the 100-frame peak).

Usage: python bench/video_io.py            (runs each length in a fresh process)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from common import BENCH_DIR, peak_rss_mb, trees

W, H = 1920, 1080


def make_source(root: Path, n: int) -> Path:
    """A dvm_source tree with one n-frame 1080p video foreground (reused if present)."""
    clip = root / "fg" / "video" / "test" / "0000"
    if (clip / "a.mp4").exists():
        return root
    yy, xx = np.mgrid[0:H, 0:W]
    with trees.video_writer(clip / "f.mp4", W, H) as fv, trees.video_writer(clip / "a.mp4", W, H, alpha=True) as av_:
        for i in range(n):
            cx = 600 + 2 * i
            d = np.hypot((yy - 540) / 1.6, xx - cx)
            a = np.clip((300 - d) * 4, 0, 255).astype(np.uint8)
            rgb = np.dstack([(xx + i) % 256, (yy * 2) % 256, np.full_like(xx, 90)]).astype(np.uint8)
            fv.write(rgb)
            av_.write(a)
    bg = root / "bg" / "test"
    bg.mkdir(parents=True, exist_ok=True)
    shutil.copy(clip / "f.mp4", bg / "0000.mp4")
    return root


def run_one(n: int) -> dict[str, float]:
    from himfmt.layouts.detect import open_datasets
    from himfmt.layouts.writer import write_samples
    from himfmt.model import Frame, Instance, Sample

    src = make_source(BENCH_DIR / f"video_io-{n}", n)
    out = BENCH_DIR / f"video_io-{n}-out"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    ds = next(d for d in open_datasets(str(src)) if d.layout == "dvm_source")
    clip = next(s for s in ds.samples if s.is_clip)
    seq = Sample("video_0000_0000", "all", [Frame(f.name, f.image, [Instance("00", f.instances[0].matte)]) for f in clip.frames], True)
    write_samples("dvm_composed", [seq], out)
    seconds = time.perf_counter() - start
    return {"frames": len(clip.frames), "seconds": seconds, "fps": len(clip.frames) / seconds, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(run_one(int(sys.argv[2]))))
        return
    results = {}
    for n in (100, 300):
        proc = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        results[n] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = results[n]
        print(f"{n:>3} frames 1080p f.mp4+a.mp4 -> dvm_composed: {r['fps']:.1f} frames/s, peak RSS {r['peak_rss_mb']:.0f} MB")
    ratio = results[300]["peak_rss_mb"] / results[100]["peak_rss_mb"]
    print(f"peak RSS 300/100 = {ratio:.2f} (target <= 1.2): {'flat' if ratio <= 1.2 else 'GROWS'}")


if __name__ == "__main__":
    main()
