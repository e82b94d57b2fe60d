"""What libjpeg says while it decodes, caught instead of leaking to the terminal.

libjpeg reports recoverable damage ("Corrupt JPEG data: 100 extraneous bytes
before marker 0xd9", "Premature end of JPEG file") as warnings that OpenCV
prints to the process's standard error and otherwise ignores: the picture
decodes, with grey or smeared blocks, and nothing tells the caller. Here the
decode runs with file descriptor 2 pointed at a private memory file for its
duration; libjpeg's own lines are returned to the caller (deep validation
makes them a ``file.corrupt`` finding), anything else written meanwhile is
passed on to the real standard error. One decode at a time per process
holds the redirection (a lock): himfmt decodes in processes, not threads.
"""

from __future__ import annotations

import os
import tempfile
import threading
from contextlib import contextmanager
from typing import Iterator

_LOCK = threading.Lock()
_SINK: dict[int, int] = {}  # pid -> the memory file's descriptor
LIBJPEG = ("Corrupt JPEG data", "Premature end of JPEG file", "Invalid JPEG file structure", "Bogus ", "Warning: unknown JFIF revision")


def _sink() -> int:
    fd = _SINK.get(os.getpid())
    if fd is None:
        try:
            fd = os.memfd_create("himfmt-libjpeg", os.MFD_CLOEXEC)
        except (AttributeError, OSError):
            fd = os.dup(tempfile.TemporaryFile().fileno())
        _SINK[os.getpid()] = fd
    return fd


@contextmanager
def caught() -> Iterator[list[str]]:
    """Yield a list that holds, after the block, the lines libjpeg wrote during it."""
    said: list[str] = []
    with _LOCK:
        sink = _sink()
        os.ftruncate(sink, 0)
        os.lseek(sink, 0, os.SEEK_SET)
        saved = os.dup(2)
        os.dup2(sink, 2)
        try:
            yield said
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            size = os.fstat(sink).st_size
            if size:
                os.lseek(sink, 0, os.SEEK_SET)
                text = os.read(sink, min(size, 1 << 16)).decode("utf-8", "replace")
                other = [ln for ln in text.splitlines() if ln and not ln.startswith(LIBJPEG)]
                said += [ln for ln in text.splitlines() if ln.startswith(LIBJPEG)]
                if other:
                    os.write(2, ("\n".join(other) + "\n").encode())
