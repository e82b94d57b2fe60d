"""Safe writing: every file appears under its final name complete or not at all."""
from __future__ import annotations

import errno
import os
import shutil
import uuid
from pathlib import Path

from ..errors import HimfmtError


def safe_join(root: str | os.PathLike[str], rel: str) -> Path:
    """``root/rel``, refusing relative paths that would leave ``root``."""
    if not rel or rel.startswith(("/", "\\")) or (len(rel) > 1 and rel[1] == ":"):
        raise HimfmtError("absolute or empty path is not allowed here", rel)
    parts = rel.replace("\\", "/").split("/")
    if any(p in ("..",) for p in parts):
        raise HimfmtError("path escapes its root ('..')", rel)
    return Path(root, *parts)


def tmp_name(dst: Path) -> Path:
    return dst.with_name(f".{dst.name}.himfmt-{uuid.uuid4().hex[:12]}.tmp")


def istmp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp") and ".himfmt-" in name


def atomic_write(dst: Path, data: bytes) -> None:
    """Write ``data`` to ``dst`` through a temporary name and a rename."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(dst)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, dst)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise write_error(exc, dst) from None


def place(src: str, dst: Path, mode: str = "copy") -> str:
    """Put the file ``src`` at ``dst`` by copy, hard link or symlink; atomic.

    Returns the mode actually used: a hard link across filesystems falls back
    to a copy (and the caller reports it).
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(dst)
    used = mode
    try:
        if mode == "hardlink":
            try:
                os.link(src, tmp)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
                shutil.copyfile(src, tmp)
                used = "copy"
        elif mode == "symlink":
            os.symlink(os.path.abspath(src), tmp)
        elif mode == "copy":
            shutil.copyfile(src, tmp)
        else:
            raise HimfmtError(f"unknown mode {mode!r} (copy, hardlink or symlink)")
        os.replace(tmp, dst)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise write_error(exc, dst) from None
    return used


def write_error(exc: OSError, dst: Path) -> HimfmtError:
    reasons = {
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EACCES: "permission denied",
        errno.EROFS: "read-only file system",
    }
    return HimfmtError(f"cannot write: {reasons.get(exc.errno or 0, exc.strerror or str(exc))}", str(dst))


def check_output_dir(out: str | os.PathLike[str], overwrite: bool, sources: list[str] = ()) -> Path:
    """Refuse an output that overlaps a source tree, or is non-empty unless ``overwrite``."""
    path = Path(out).resolve()
    for src in sources:
        s = Path(src).resolve()
        if path == s or s in path.parents or path in s.parents:
            raise HimfmtError(f"output overlaps the source tree {s}", str(path))
    if path.exists() and not path.is_dir():
        raise HimfmtError("output exists and is not a directory", str(path))
    if path.exists() and any(path.iterdir()) and not overwrite:
        raise HimfmtError("output directory is not empty (pass overwrite=true to write into it)", str(path))
    return path
