"""Issue 30's speed target: ``himfmt fix`` on a tree in which 1% of the files need a repair.

Target: fix takes no more than 1.5x the structure validation pass plus the time to rewrite the changed
files. Prints: the structure pass over the source (warm, best of 3), the fix (its own validation of the
source, the copy with hard links and records, the validation of the copy) and how long the rewrites alone
take (the changed files decoded and written again, in one process).

Usage: python bench/fix.py [n_images]   (default 20,000; the issue's scale is 50,000)
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from himfmt.io import images
from himfmt.options import FixOptions
from himfmt.repair.job import fix
from himfmt.repair.rules import loader_gray
from himfmt.validation import validate

from common import BENCH_DIR, best_of, peak_rss_mb, tiny_train_tree


def broken(root: Path, n: int) -> tuple[Path, list[Path]]:
    """The tiny train tree with 1% of its mattes saved as RGB (a repair each)."""
    tree = tiny_train_tree(root, n)
    rgb = images.encode_png(np.full((8, 8, 3), 200, np.uint8))
    mattes = sorted((tree / "I-HIM50K" / "alphas").glob("*/00.png"))[:: max(1, 100 // 3)][: max(1, n * 3 // 100)]
    for m in mattes:
        m.write_bytes(rgb)
    return tree, mattes


def link_floor(src: Path, dst: Path) -> float:
    """What any copy by hard links must do at least: make every folder and link every file (plain os calls)."""
    shutil.rmtree(dst, ignore_errors=True)
    t = time.perf_counter()
    for folder, dirs, names in os.walk(src):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(folder, src)
        os.makedirs(dst / rel, exist_ok=True)
        for name in names:
            if not name.startswith("."):
                os.link(os.path.join(folder, name), dst / rel / name)
    spent = time.perf_counter() - t
    shutil.rmtree(dst)
    return spent


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    root = BENCH_DIR / f"fix-{n}"
    tree, changed = broken(root / "src", n)
    structure, _ = best_of(lambda: validate(str(tree), workers=1))
    t = time.perf_counter()
    for m in changed:  # the rewrites alone: decode as the loaders do, encode, write
        (root / "rewrite.png").write_bytes(images.encode_png(loader_gray(m.read_bytes(), str(m))))
    rewrite = time.perf_counter() - t
    out = root / "out"
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    done = fix(FixOptions(root=str(tree), out=str(out), workers=1))
    whole = time.perf_counter() - t
    assert done.report is not None and not done.report.fails("error"), "the copy must validate clean"
    target = 1.5 * structure + rewrite
    links = link_floor(tree, root / "links")
    print(f"fix on {n} images ({n * 4} files), {len(changed)} mattes to rewrite (1% of the files):")
    print(f"  structure pass over the source: {structure:.2f} s warm (best of 3)")
    print(f"  the rewrites alone: {rewrite:.2f} s")
    print(f"  fix: {whole:.2f} s (validate the source, copy with hard links and records, validate the copy)")
    print(f"  = {whole / structure:.2f}x the structure pass; target <= 1.5x + rewrites = {target:.2f} s; peak RSS {peak_rss_mb():.0f} MB")
    floor = structure + links + rewrite
    print("  floor: the structure pass (to know what to fix) + making every folder and hard-linking every file")
    print(f"  with plain os calls ({links:.2f} s) + the rewrites = {floor:.2f} s = {floor / structure:.2f}x the structure pass")


if __name__ == "__main__":
    main()
