"""Issue 27 item 5: small jobs are not slower with the default workers.

The same small commands (the demo's fill, a deep validation of the demo, a
conversion of its I-HIM50K) with the default workers (one per core) and with
``workers=1``, each in its own process: wall time and the CPU of the process
and its workers. Target: default <= 1.2x workers=1 in wall time. Also a large
synth (where a pool pays) both ways, and the cost of starting a pool.

Usage: python bench/pool.py [rounds]
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HIMFMT = [sys.executable, "-m", "himfmt"]


def timed(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, workers included) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([*HIMFMT, *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def pool_start() -> float:
    """Seconds from asking for a pool of two to its first results (workers import the codecs)."""
    code = (
        "import time; t = time.perf_counter()\n"
        "from himfmt.io.pool import spawn_pool\n"
        "from himfmt.synthesis import runner\n"
        "if __name__ == '__main__':\n"
        "    with spawn_pool(2) as p:\n"
        "        list(p.map(abs, [1, 2]))\n"
        "        print(time.perf_counter() - t)\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(code)
    out = subprocess.run([sys.executable, f.name], capture_output=True, text=True, check=True).stdout
    Path(f.name).unlink()
    return float(out)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    work = Path(tempfile.mkdtemp(prefix="himfmt-bench-pool-"))
    demo = work / "demo"
    assert subprocess.run([*HIMFMT, "fill", "dataset=demo", f"out={demo}", "workers=1"], capture_output=True).returncode == 0
    hhm, bg = demo / "sources" / "HHM", demo / "sources" / "BG-20K" / "train"
    jobs = {
        "fill (demo, 461 files)": lambda w, k: ["fill", "dataset=demo", f"out={work / f'f{w}{k}'}", f"workers={w}"],
        "validate deep=true (demo)": lambda w, k: ["validate", str(demo), "deep=true", f"workers={w}"],
        "convert I-HIM50K (copy)": lambda w, k: [
            "convert",
            str(demo / "data" / "I-HIM50K"),
            f"dst={work / f'c{w}{k}'}",
            "to=maggie_image_val",
            f"workers={w}",
        ],
        "synth image_him n=400 (large)": lambda w, k: [
            "synth",
            "recipe=image_him",
            f"hhm={hhm}",
            f"bg={bg}",
            "n=400",
            f"out={work / f's{w}{k}'}",
            f"workers={w}",
        ],
    }
    print(f"pool of 2 workers, start to first result: {pool_start():.2f} s")
    print(f"{'job':32} {'workers=1':>18} {'default (0)':>18} {'ratio':>6}")
    for name, args in jobs.items():
        for k in range(rounds):
            one = timed(args(1, k))
            default = timed(args(0, k))
            print(f"{name:32} {one[0]:6.2f} s {one[1]:6.2f} cpu {default[0]:6.2f} s {default[1]:6.2f} cpu {default[0] / one[0]:5.2f}x")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
