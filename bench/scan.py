"""Issue 2 target: detect + full read of a 50,000-image maggie_image_train tree in <= 5 s warm.

Usage: python bench/scan.py [n_images]
"""

from __future__ import annotations

import sys
import time

from himfmt.io.tree import Tree
from himfmt.layouts.detect import detect

from common import BENCH_DIR, best_of, peak_rss_mb, tiny_train_tree


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    t = time.perf_counter()
    root = tiny_train_tree(BENCH_DIR / f"scan-{n}", n)
    print(f"tree: {n} images x 3 instances at {root} (built/reused in {time.perf_counter() - t:.1f} s)")

    def run() -> tuple[int, int]:
        found = detect(Tree(root))
        ds = found.datasets()
        return sum(len(d.samples) for d in ds), sum(d.n_instances for d in ds)

    seconds, (samples, instances) = best_of(run)
    print(f"detect + read: {seconds:.2f} s warm (best of 3) for {samples} samples, {instances} instances")
    print(f"  {(samples + instances) / seconds:,.0f} files/s; peak RSS {peak_rss_mb():.0f} MB; target <= 5 s")


if __name__ == "__main__":
    main()
