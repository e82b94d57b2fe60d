"""Safe writing: every file appears under its final name complete or not at all."""
from __future__ import annotations

import errno
import os
import shutil
import socket
import uuid
from pathlib import Path

from ..errors import HimfmtError


def safe_join(root: str | os.PathLike[str], rel: str) -> str:
    """``root/rel``, refusing relative paths that would leave ``root``."""
    if not rel or rel[0] in "/\\" or (len(rel) > 1 and rel[1] == ":"):
        raise HimfmtError("absolute or empty path is not allowed here", rel)
    if ".." in rel.replace("\\", "/").split("/"):
        raise HimfmtError("path escapes its root ('..')", rel)
    return os.path.join(root, rel)


_made_dirs: set[str] = set()


def ensure_parent(path: str, fresh: bool = False) -> None:
    """Create the parent folder once per process (writing 200,000 files, mkdir was 10%)."""
    parent = os.path.dirname(path)
    if fresh or parent not in _made_dirs:
        os.makedirs(parent, exist_ok=True)
        _made_dirs.add(parent)


HOST = socket.gethostname().replace("-", "_")


def tmp_name(dst: str | Path) -> Path:
    """A hidden sibling name that says which host and process is writing it."""
    dst = Path(dst)
    return dst.with_name(f".{dst.name}.himfmt-{HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def _writer_gone(name: str) -> bool:
    """True when the temporary file's writer ran on this host and is no longer alive."""
    try:
        host, pid, _ = name[: -len(".tmp")].rsplit(".himfmt-", 1)[1].rsplit("-", 2)
        if host != HOST:
            return False  # another machine's (e.g. another shard on a cluster): not ours to judge
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (ValueError, PermissionError, IndexError):
        return False
    return False


def is_tmp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp") and ".himfmt-" in name


def remove_tmp_files(root: str | Path) -> int:
    """Delete temporary files that killed runs on this host left under ``root``.

    Files of live writers (another shard writing into the same output) are kept.
    """
    n = 0
    for folder, _, names in os.walk(root):
        for name in names:
            if is_tmp_name(name) and _writer_gone(name):
                os.unlink(os.path.join(folder, name))
                n += 1
    return n


def atomic_write(dst: str | Path, data: bytes) -> None:
    """Write ``data`` to ``dst`` through a temporary name and a rename."""
    dst = str(dst)
    ensure_parent(dst, fresh=True)
    tmp = tmp_name(dst)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, dst)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise write_error(exc, dst) from None
    except BaseException:  # interrupted: leave no temporary file behind
        tmp.unlink(missing_ok=True)
        raise


def place(src: str, dst: str | Path, mode: str = "copy") -> str:
    """Put the file ``src`` at ``dst`` by copy, hard link or symlink; atomic.

    A link is created under its final name directly (creating a link is atomic);
    only when that name exists already does it go through a temporary name and
    a rename. Returns the mode actually used: a hard link across file systems
    falls back to a copy (and the caller reports it).
    """
    dst = str(dst)
    if mode not in ("copy", "hardlink", "symlink"):
        raise HimfmtError(f"unknown mode {mode!r} (copy, hardlink or symlink)")
    for attempt in (0, 1):
        try:
            ensure_parent(dst, fresh=attempt == 1)
            if mode == "hardlink":
                os.link(src, dst)
            elif mode == "symlink":
                os.symlink(os.path.abspath(src), dst)
            else:
                break
            return mode
        except FileExistsError:
            break
        except FileNotFoundError:
            if attempt or not os.path.exists(src):
                raise write_error(FileNotFoundError(errno.ENOENT, "source file vanished"), Path(src)) from None
        except OSError as exc:
            if mode == "hardlink" and exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                mode = "copy"
                break
            raise write_error(exc, Path(dst)) from None
    tmp = tmp_name(dst)
    try:
        if mode == "hardlink":
            os.link(src, tmp)
        elif mode == "symlink":
            os.symlink(os.path.abspath(src), tmp)
        else:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise write_error(exc, Path(dst)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return mode


def write_error(exc: OSError, dst: str | Path) -> HimfmtError:
    reasons = {
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted (read-only or immutable destination?)",
        errno.EROFS: "read-only file system",
        errno.EFBIG: "file too large for this file system or limit (disk full?)",
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
    # himfmt's own folder (records, sweep logs) does not make an output "not empty".
    if path.exists() and any(p.name != ".himfmt" for p in path.iterdir()) and not overwrite:
        raise HimfmtError("output directory is not empty (pass overwrite=true to write into it)", str(path))
    return path


def files_intact(root: str, files: list[list]) -> bool:
    """Every recorded ``[path, size, ...]`` (relative to ``root``) is there with its size.

    Resume records trust a file only while it is: a deleted or truncated file
    makes its sample pending again.
    """
    for entry in files:
        try:
            if os.stat(os.path.join(root, entry[0])).st_size != entry[1]:
                return False
        except OSError:
            return False
    return True
