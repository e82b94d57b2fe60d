"""Issue 10 target: detect + structure validation of a 50,000-image train tree inside a zip
(stored and deflated) within 2x the time of the same tree extracted on disk; memory
independent of the archive's size in bytes (the same members, 16x the payload, same peak).

Each measurement runs in a fresh process (peak RSS is per process).
Usage: python bench/archive.py [n_images]
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from common import BENCH_DIR, tiny_train_tree

PROBE = """
import resource, sys, time
from himfmt.validation import validate
validate(sys.argv[1], workers=1)  # warm: listing caches, page cache
t = time.perf_counter()
report = validate(sys.argv[1], workers=1)
seconds = time.perf_counter() - t
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, report.datasets[0].samples)
"""


def make_zip(tree: Path, archive: Path, compression: int, pad: int = 0) -> Path:
    """The tree as an archive; ``pad`` bytes appended to each image member (a bigger archive, same members)."""
    if archive.exists():
        return archive
    tmp = archive.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", compression, allowZip64=True) as zf:
        for p in sorted(tree.rglob("*")):
            if p.is_file() and p.name != ".complete":
                data = p.read_bytes()
                zf.writestr(str(p.relative_to(tree)), data + (b"\0" * pad if pad and p.suffix == ".jpg" else b""))
    tmp.rename(archive)
    return archive


def measure(root: Path) -> tuple[float, float, int]:
    out = subprocess.run([sys.executable, "-c", PROBE, str(root)], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    tree = tiny_train_tree(BENCH_DIR / f"train-{n}", n_images=n)
    stored = make_zip(tree, BENCH_DIR / f"train-{n}-stored.zip", zipfile.ZIP_STORED)
    deflated = make_zip(tree, BENCH_DIR / f"train-{n}-deflated.zip", zipfile.ZIP_DEFLATED)
    padded = make_zip(tree, BENCH_DIR / f"train-{n}-stored-padded.zip", zipfile.ZIP_STORED, pad=16 * 1024)
    base, base_mb, samples = measure(tree)
    print(f"directory: {samples} images x 4 files, detect + structure validation {base:.2f} s, peak RSS {base_mb:.0f} MB")
    for name, archive in (("stored zip", stored), ("deflated zip", deflated), ("stored zip, 16 KB more per image", padded)):
        seconds, mb, _ = measure(archive)
        size = archive.stat().st_size / 1e6
        print(f"{name} ({size:,.0f} MB): {seconds:.2f} s = {seconds / base:.2f}x the directory (target <= 2x), peak RSS {mb:.0f} MB")


if __name__ == "__main__":
    main()
