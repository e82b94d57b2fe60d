"""Safe writing: every file appears under its final name complete or not at all, and only inside its output.

Everything himfmt writes below an output root goes through :class:`OutDir`:

- Folders are opened one component at a time relative to their parent's
  descriptor with ``O_NOFOLLOW``, and files are created and renamed relative
  to that descriptor, so a link anywhere inside the output (``dst/images ->
  elsewhere``) is never followed: the write stops with one line naming it.
  A link at a file's final name is replaced, never written through.
- Each file is written under a short temporary name in its own folder
  (``.hf-<writer>-<n>.tmp``, about 25 bytes, so a final name near the
  255-byte limit still fits) and renamed into place.
- Each writing process holds an ``flock`` on its own file in
  ``<root>/.himfmt/writers/``. The kernel drops it when the process dies
  (a zombie holds no lock), so :func:`remove_tmp_files` can tell the
  temporary files of a killed run from those of a live writer on any host
  that shares the file system's locks.
- A hard link whose final name already is the same file is left alone: a
  rename between two links of one inode does nothing, and would leave the
  temporary name behind.
- Before a file takes its final name, the writer appends that name to its
  list in ``<root>/.himfmt/written/``: a run killed between a sample's first
  file and its record line still leaves word that himfmt made those files,
  so a rerun replaces them as its own and never takes them for the user's.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import stat
from collections import OrderedDict
from pathlib import Path
from typing import Any, BinaryIO, Callable, TextIO

from himfmt.errors import BadInputError, HimfmtError, UnreadableError, WriteError

RECORD_DIR = ".himfmt"  # himfmt's own folder in an output: job records, writer locks, sweep logs
WRITERS = RECORD_DIR + "/writers"
WRITTEN = RECORD_DIR + "/written"  # each writer's list of the final names it gave files
TMP = re.compile(r"\.hf-([0-9a-f]{10})-\d+\.tmp")
MODES = ("copy", "hardlink", "symlink")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_DIRS = 64  # folder descriptors kept open per output


def check_rel(rel: str) -> None:
    if not rel or rel[0] in "/\\" or (len(rel) > 1 and rel[1] == ":"):
        raise HimfmtError("absolute or empty path is not allowed here", rel)
    if ".." in rel.replace("\\", "/").split("/"):
        raise HimfmtError("path escapes its root ('..')", rel)


def write_error(exc: OSError, dst: str | Path) -> WriteError:
    reasons = {
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted (read-only or immutable destination?)",
        errno.EROFS: "read-only file system",
        errno.EFBIG: "file too large for this file system or limit (disk full?)",
        errno.ENAMETOOLONG: "file name too long for this file system",
    }
    return WriteError(f"cannot write: {reasons.get(exc.errno or 0, exc.strerror or str(exc))}", str(dst))


def open_regular(path: str) -> int:
    """A read descriptor of ``path``, only if it is a regular file (a FIFO or device never blocks us)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise UnreadableError(f"cannot read ({exc.strerror})", path) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BadInputError("not a regular file (a FIFO, socket or device is never read)", path)
    return fd


class Pending:
    """A file being written under its temporary name: ``commit()`` renames it into place.

    As a context manager it yields the file object, commits when the block
    ends normally and removes the temporary file otherwise (an ``OSError``
    becomes one line naming the destination).
    """

    def __init__(self, out: "OutDir", rel: str) -> None:
        self.out, self.rel = out, rel
        parent, _, self.name = rel.rpartition("/")
        self.dfd = out.dir_fd(parent)
        self.tmp = out.tmp_name()
        try:
            fd = os.open(self.tmp, _NEW_FILE, 0o666, dir_fd=self.dfd)
            if not out.register:  # no writer file vouches for it: the file's own lock does, until the rename
                fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            raise write_error(exc, out.display(rel)) from None
        self.file: BinaryIO = os.fdopen(fd, "w+b")

    def commit(self) -> None:
        try:
            self.file.close()
            self.out.rename(self.dfd, self.tmp, self.name, self.rel)
        except OSError as exc:
            self.abort()
            raise write_error(exc, self.out.display(self.rel)) from None
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        try:
            self.file.close()
        except OSError:
            pass
        try:
            os.unlink(self.tmp, dir_fd=self.dfd)
        except OSError:
            pass

    def __enter__(self) -> BinaryIO:
        return self.file

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self.commit()
            return
        self.abort()
        if isinstance(exc, OSError):
            raise write_error(exc, self.out.display(self.rel)) from None


class OutDir:
    """An output root; every write below it goes through folder descriptors (see the module docstring).

    One instance per root and process (:meth:`at`); workers make their own.
    ``register=False`` is for a single user-named file (a report): no writer
    lock, so nothing is added beside it.
    """

    _cache: dict[tuple[str, int, bool], "OutDir"] = {}

    @classmethod
    def at(cls, root: str | os.PathLike[str], register: bool = True, expect: tuple[int, int] | None = None) -> "OutDir":
        """The output at ``root`` (one per process). While a job runs there (:meth:`begin`), or with ``expect``
        (the folder's identity where the job began, in a worker), a folder replaced since stops the write."""
        key = (os.path.abspath(root), os.getpid(), register)
        hit = cls._cache.get(key)
        if hit is not None and not hit.alive():
            if hit.pinned:
                raise cls.replaced(key[0])
            hit = None
        if hit is None:
            hit = cls._cache[key] = cls(key[0], register)
        if expect is not None and hit.identity() != expect:
            raise cls.replaced(key[0])
        return hit

    @classmethod
    def begin(cls, root: str | os.PathLike[str]) -> "OutDir":
        """The output of a job that starts now: opened afresh if the folder changed since an earlier job, its
        identity pinned until :meth:`end` (a link or folder swapped in at its name during the run stops it)."""
        key = (os.path.abspath(root), os.getpid(), True)
        hit = cls._cache.get(key)
        if hit is not None and not hit.alive():
            hit.pinned = False
            del cls._cache[key]
        out = cls.at(root)
        out.forget_dirs()
        out.pinned = True
        return out

    def end(self) -> None:
        self.pinned = False

    @staticmethod
    def replaced(root: str) -> HimfmtError:
        return HimfmtError(
            "the output folder was replaced during the run (a link or another folder stands at its "
            "name now); stopped: nothing more is written there",
            root,
        )

    def identity(self) -> tuple[int, int]:
        st = os.fstat(self.fd)
        return st.st_dev, st.st_ino

    def __init__(self, root: str, register: bool = True) -> None:
        self.root, self.register = root, register
        try:
            os.makedirs(root, exist_ok=True)
            self.fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise write_error(exc, root) from None
        self._dirs: OrderedDict[str, int] = OrderedDict()
        self.pinned = False  # a job runs here: the folder must stay the one it began in
        self.token: str | None = None
        self._lock: int | None = None
        self._names: int | None = None  # this writer's list of final names (registered outputs only)
        self._n = 0

    def alive(self) -> bool:
        """False once the root folder was removed or replaced (a test or a user deleting the output)."""
        try:
            a, b = os.fstat(self.fd), os.stat(self.root)
        except OSError:
            return False
        return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)

    def forget_dirs(self) -> None:
        """Close the cached folder descriptors: a new job starts from the tree as it is now."""
        while self._dirs:
            os.close(self._dirs.popitem()[1])

    def display(self, rel: str) -> str:
        return os.path.join(self.root, rel) if rel else self.root

    def dir_fd(self, rel: str, create: bool = True) -> int:
        """The descriptor of folder ``rel``, made as needed (``create=False``: FileNotFoundError when it is not
        there); a link or a file in the way stops the write."""
        if not rel:
            return self.fd
        hit = self._dirs.get(rel)
        if hit is not None:
            self._dirs.move_to_end(rel)
            return hit
        check_rel(rel)
        parent, _, name = rel.rpartition("/")
        fd = self._open_child(self.dir_fd(parent, create), name, rel, create)
        self._dirs[rel] = fd
        if len(self._dirs) > _OPEN_DIRS:
            os.close(self._dirs.popitem(last=False)[1])
        return fd

    def _open_child(self, pfd: int, name: str, rel: str, create: bool = True) -> int:
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=pfd)
        except FileNotFoundError:
            if not create:
                raise
        except OSError as exc:
            raise self._in_the_way(pfd, name, rel, exc) from None
        try:
            os.mkdir(name, 0o777, dir_fd=pfd)
        except FileExistsError:
            pass  # another worker made it just now
        except OSError as exc:
            raise write_error(exc, self.display(rel)) from None
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=pfd)
        except OSError as exc:
            raise self._in_the_way(pfd, name, rel, exc) from None

    def _in_the_way(self, pfd: int, name: str, rel: str, exc: OSError) -> HimfmtError:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            try:
                is_link = stat.S_ISLNK(os.stat(name, dir_fd=pfd, follow_symlinks=False).st_mode)
            except OSError:
                is_link = False
            if is_link:
                return HimfmtError(
                    "is a link inside the output; himfmt never writes through a link (remove it, or choose another output)",
                    self.display(rel),
                )
            return HimfmtError("is a file where a folder must go", self.display(rel))
        return write_error(exc, self.display(rel))

    def remove(self, rel: str, size: int | None = None) -> bool:
        """Delete the file ``rel`` and the folders it leaves empty; True when it was there to delete.

        Like every write, never through a link: a link among its folders stops
        the removal (nothing is deleted), a link at its own name is removed,
        not followed. With ``size``, a regular file is deleted only while it
        still has that size (otherwise it is no longer what was written there).
        """
        parent, _, name = rel.rpartition("/")
        try:
            dfd = self.dir_fd(parent, create=False)
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if size is not None and stat.S_ISREG(st.st_mode) and st.st_size != size:
                return False
            os.unlink(name, dir_fd=dfd)
        except (OSError, HimfmtError):
            return False
        while parent:  # an empty sample folder would be read as a sample
            up, _, folder = parent.rpartition("/")
            try:
                os.rmdir(folder, dir_fd=self.dir_fd(up, create=False))
            except (OSError, HimfmtError):
                break
            fd = self._dirs.pop(parent, None)
            if fd is not None:
                os.close(fd)
            parent = up
        return True

    def tmp_name(self) -> str:
        if self.token is None:
            self.token = secrets.token_hex(5)
            if self.register:
                self._hold_lock()
        self._n += 1
        return f".hf-{self.token}-{self._n}.tmp"

    def _hold_lock(self) -> None:
        """Create and lock this process's writer file; the lock lives as long as the process."""
        assert self.token is not None
        wfd = self.dir_fd(WRITERS)
        try:
            fd = os.open(self.token, _NEW_FILE, 0o644, dir_fd=wfd)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise write_error(exc, self.display(f"{WRITERS}/{self.token}")) from None
        self._lock = fd

    def claim(self, rel: str) -> None:
        """Note ``rel`` in this writer's list of names before a file takes it (see the module docstring)."""
        if not self.register or rel.startswith(RECORD_DIR + "/"):
            return
        if self._names is None:
            if self.token is None:
                self.tmp_name()
            try:
                self._names = os.open(
                    f"{self.token}.txt",
                    os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                    0o644,
                    dir_fd=self.dir_fd(WRITTEN),
                )
            except OSError as exc:
                raise write_error(exc, self.display(WRITTEN)) from None
        os.write(self._names, (rel + "\n").encode("utf-8", "surrogateescape"))

    def rename(self, dfd: int, tmp: str, name: str, rel: str) -> None:
        self.claim(rel)
        try:
            os.rename(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except IsADirectoryError:
            raise HimfmtError("is a folder where a file must go", self.display(rel)) from None

    def read_bytes(self, rel: str, limit: int) -> bytes | None:
        """File ``rel`` of this output if it is a regular file of at most ``limit`` bytes, reached without
        following a link; None otherwise (missing, a link, a FIFO, too large): himfmt's own files, such as
        its caches, are then made again."""
        parent, _, name = rel.rpartition("/")
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=self.dir_fd(parent, create=False))
        except (OSError, HimfmtError):
            return None
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
                return None
            return f.read(limit + 1)

    def entry(self, rel: str) -> list[Any]:
        """A record's entry for the file just written at ``rel``: ``[rel, size, sha256, mtime_ns]``, read
        through the folder's descriptor (never through a folder swapped in since)."""
        parent, _, name = rel.rpartition("/")
        try:
            fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=self.dir_fd(parent, create=False))
        except OSError as exc:
            raise write_error(exc, self.display(rel)) from None
        with os.fdopen(fd, "rb") as f:
            sha = hashlib.file_digest(f, "sha256").hexdigest()
            st = os.fstat(fd)
            return [rel, st.st_size, sha, st.st_mtime_ns]

    def write_bytes(self, rel: str, data: bytes) -> None:
        with Pending(self, rel) as f:
            f.write(data)

    def open_append(self, rel: str, header: str = "") -> TextIO:
        """A record file to append lines to (``header`` starts a new one); never through a link."""
        parent, _, name = rel.rpartition("/")
        try:
            fd = os.open(
                name,
                os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                0o644,
                dir_fd=self.dir_fd(parent),
            )
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise HimfmtError("a record must be a regular file (remove what stands at its name)", self.display(rel))
            os.set_blocking(fd, True)
            f = os.fdopen(fd, "a")
            if header and os.fstat(fd).st_size == 0:
                f.write(header)
                f.flush()
        except OSError as exc:
            raise write_error(exc, self.display(rel)) from None
        return f

    def open_pending(self, rel: str) -> Pending:
        """A file object to stream into; call ``commit()`` when complete, ``abort()`` otherwise."""
        return Pending(self, rel)

    def place(self, src: str, rel: str, mode: str = "copy") -> str:
        """Put the file ``src`` at ``rel`` by copy, hard link or symlink; returns the mode used.

        A hard link across file systems falls back to a copy (the caller reports it). A destination that
        is the source file itself (one folder under two paths: a bind mount) is refused, never replaced.
        """
        if mode not in MODES:
            raise HimfmtError(f"unknown mode {mode!r} (copy, hardlink or symlink)")
        parent, _, name = rel.rpartition("/")
        dfd = self.dir_fd(parent)
        if mode != "hardlink":
            self._not_the_source(src, dfd, name, rel)
        if mode == "hardlink" and not self._link(src, dfd, name, rel):
            mode = "copy"
        elif mode == "symlink":
            self._symlink(src, dfd, name, rel)
        if mode == "copy":
            self._copy(src, rel)
        return mode

    def _not_the_source(self, src: str, dfd: int, name: str, rel: str) -> None:
        try:
            d = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            s = os.stat(src, follow_symlinks=False)
        except OSError:
            return
        if (d.st_dev, d.st_ino) == (s.st_dev, s.st_ino):
            raise HimfmtError(
                f"is the source file {src} itself (the destination reaches the source through a bind mount or a link); nothing is replaced",
                self.display(rel),
            )

    def _link(self, src: str, dfd: int, name: str, rel: str) -> bool:
        """Hard-link ``src``; False when links are impossible here (then the caller copies)."""
        try:
            s = os.stat(src)
        except OSError as exc:
            raise UnreadableError(f"cannot read ({exc.strerror})", src) from None
        if not stat.S_ISREG(s.st_mode):
            raise BadInputError("not a regular file (a FIFO, socket or device is never read)", src)
        try:
            d = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if (d.st_dev, d.st_ino) == (s.st_dev, s.st_ino):
                return True  # already this very file
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise write_error(exc, self.display(rel)) from None
        try:
            self._link_in(lambda at: os.link(src, at, dst_dir_fd=dfd), dfd, name, rel)
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                return False
            raise write_error(exc, self.display(rel)) from None
        return True

    def _symlink(self, src: str, dfd: int, name: str, rel: str) -> None:
        target = os.path.abspath(src)
        try:
            self._link_in(lambda at: os.symlink(target, at, dir_fd=dfd), dfd, name, rel)
        except OSError as exc:
            raise write_error(exc, self.display(rel)) from None

    def _link_in(self, make: Callable[[str], None], dfd: int, name: str, rel: str) -> None:
        """Create a link under its final name (atomic), or through a temporary name when that name exists."""
        self.claim(rel)
        try:
            make(name)
            return
        except FileExistsError:
            pass
        tmp = self.tmp_name()
        try:
            make(tmp)
            self.rename(dfd, tmp, name, rel)
        finally:
            try:  # still there when the final name already was the same inode (a rename then does nothing)
                os.unlink(tmp, dir_fd=dfd)
            except OSError:
                pass

    def _copy(self, src: str, rel: str) -> None:
        fd = open_regular(src)
        try:
            with Pending(self, rel) as f:
                while os.sendfile(f.fileno(), fd, None, 1 << 24):
                    pass
        finally:
            os.close(fd)


def atomic_write(dst: str | Path, data: bytes) -> None:
    """Write one user-named file (a report, a preview) through a temporary name and a rename."""
    dst = os.path.abspath(dst)
    OutDir.at(os.path.dirname(dst), register=False).write_bytes(os.path.basename(dst), data)


def _writer_alive(folder: str, token: str) -> bool:
    """Whether the writer ``token`` still holds its lock; its file is in ``.himfmt/writers`` of an ancestor."""
    here = folder
    while True:
        lock = os.path.join(here, WRITERS, token)
        try:
            fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            up = os.path.dirname(here)
            if up == here:
                return False  # no writer file anywhere: nobody is writing it
            here = up
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        try:
            os.unlink(lock)  # its writer is gone
        except OSError:
            pass
        return False


def _held(path: str) -> bool:
    """Whether a live writer holds this temporary file's own lock (a report, written with no writer file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def remove_tmp_files(root: str | Path) -> int:
    """Delete the temporary files that dead writers left under ``root``; live writers' are kept."""
    n = 0
    verdict: dict[str, bool] = {}
    for folder, dirs, names in os.walk(root):
        for name in names + dirs:  # a temporary symlink to a folder is listed with the folders
            m = TMP.fullmatch(name)
            if not m:
                continue
            token = m.group(1)
            if token not in verdict:
                verdict[token] = _writer_alive(folder, token)
            if not verdict[token] and not _held(os.path.join(folder, name)):
                try:
                    os.unlink(os.path.join(folder, name))
                    n += 1
                except OSError:
                    pass
        dirs[:] = [d for d in dirs if not TMP.fullmatch(d)]
    writers = os.path.join(root, WRITERS)
    for token in os.listdir(writers) if os.path.isdir(writers) else []:
        if token not in verdict:
            _writer_alive(str(root), token)  # removes the file of a writer that is gone
    return n


def check_output_dir(out: str | os.PathLike[str], overwrite: bool, sources: tuple[str, ...] | list[str] = ()) -> Path:
    """Refuse an output that overlaps a source tree, or is non-empty unless ``overwrite``."""
    path = Path(out).resolve()
    for src in sources:
        s = Path(src).resolve()
        if path == s or s in path.parents or path in s.parents or _same_place(path, s) or _same_place(s, path):
            raise HimfmtError(
                f"output overlaps the source tree {s} (the same folder, one inside the other, or reached through a bind mount)", str(path)
            )
    if path.exists() and not path.is_dir():
        raise HimfmtError("output exists and is not a directory", str(path))
    # himfmt's own folder (records, sweep logs) does not make an output "not empty".
    if path.exists() and any(p.name != RECORD_DIR for p in path.iterdir()) and not overwrite:
        raise HimfmtError("output directory is not empty (pass overwrite=true to write into it)", str(path))
    return path


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _same_place(inner: Path, outer: Path) -> bool:
    """Whether ``inner`` or a folder above it is the very folder ``outer`` is (by device and inode: a bind
    mount shows one folder under two paths that no path comparison tells apart)."""
    target = _identity(outer)
    if target is None:
        return False
    return any(_identity(p) == target for p in (inner, *inner.parents))


JOBS = RECORD_DIR + "/jobs"


class JobLock:
    """One job at a time writes into an output; the processes of that job (its shards) share it.

    Each job holds a shared ``flock`` on ``.himfmt/jobs/<job id>.lock`` while
    it runs. A new job first takes the folder's gate (``.himfmt/jobs/.gate``,
    exclusively, for an instant), then tries each other job's lock file: one
    that is still held is a live job of another kind, and the new job stops
    with one line; one that is free was left by a dead job and is removed.
    The kernel drops the locks of a process that dies, however it dies.
    """

    def __init__(self, root: str | os.PathLike[str], key: object, what: str) -> None:
        self.root = os.path.abspath(root)
        self.id = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
        self.what = what
        self.fd: int | None = None
        self.out: OutDir | None = None

    def __enter__(self) -> "JobLock":
        out = self.out = OutDir.begin(self.root)
        try:
            self._take(out)
        except BaseException:
            out.end()
            raise
        return self

    def _take(self, out: "OutDir") -> None:
        jfd = out.dir_fd(JOBS)
        try:
            gate = os.open(".gate", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=jfd)
            fcntl.flock(gate, fcntl.LOCK_EX)
        except OSError as exc:
            raise write_error(exc, out.display(f"{JOBS}/.gate")) from None
        try:
            for name in os.listdir(jfd):
                if name.endswith(".lock") and name != f"{self.id}.lock":
                    self._check_other(jfd, name)
            fd = os.open(f"{self.id}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=jfd)
            fcntl.flock(fd, fcntl.LOCK_SH)
            os.ftruncate(fd, 0)
            os.write(fd, f"{self.what} (pid {os.getpid()})\n".encode("utf-8", "surrogateescape"))
            self.fd = fd
        except OSError as exc:
            raise write_error(exc, out.display(JOBS)) from None
        finally:
            os.close(gate)

    def _check_other(self, jfd: int, name: str) -> None:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=jfd)
        except OSError:
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                who = os.read(fd, 200).decode(errors="replace").strip() or "another job"
                raise HimfmtError(
                    f"another himfmt job is writing here now: {who}; wait for it to end, or choose another output", self.root
                ) from None
            os.unlink(name, dir_fd=jfd)  # left by a job that is gone
        finally:
            os.close(fd)

    def __exit__(self, *exc: object) -> None:
        if self.out is not None:
            self.out.end()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
