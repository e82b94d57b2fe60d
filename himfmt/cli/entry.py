"""The ``himfmt`` command's first step: start the CLI, or say in one line why the process cannot.

Importing the CLI loads numpy, OpenCV, PyAV's and Hydra's machinery; in a
process whose memory is capped below what they map (``ulimit -v``,
``prlimit --as``) that import fails with a MemoryError or an ImportError
("failed to map segment"). This module imports nothing heavy, so that case
is one line and exit 2, never a traceback.
"""

from __future__ import annotations

import sys

OUT_OF_MEMORY = (
    "himfmt: out of memory: this process may not map what himfmt needs to start (numpy, OpenCV, "
    "Hydra); raise its memory limit (ulimit -v, prlimit --as) or run it where more is free"
)


def main() -> None:
    try:
        from himfmt.cli.main import main as cli_main
    except MemoryError:
        print(OUT_OF_MEMORY, file=sys.stderr)
        sys.exit(2)
    except ImportError as exc:
        memory = "failed to map segment" in str(exc) or "Cannot allocate memory" in str(exc)
        print(OUT_OF_MEMORY if memory else f"himfmt: cannot start: {exc}", file=sys.stderr)
        sys.exit(2)
    cli_main()
