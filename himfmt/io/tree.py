"""Read-only access to a dataset tree with one cached listing per directory.

Every reader goes through :class:`Tree`, so directory listings are done once,
symlinks that leave the root are caught in one place, and later stores (zip
archives) can stand in for a directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from himfmt.errors import HimfmtError
from himfmt.io import images
from himfmt.io.files import open_regular
from himfmt.io.images import MAX_READ, TooLargeError

if TYPE_CHECKING:
    from himfmt.io.files import OutDir


class Entry(NamedTuple):
    name: str
    is_dir: bool


def join(*parts: str) -> str:
    """Join relative '/'-separated parts, skipping empty ones ('' is the tree root)."""
    return "/".join(filter(None, parts))


class Tree:
    """A directory on disk, addressed by '/'-separated paths relative to its root."""

    is_archive = False  # a ZipTree reads members from an archive instead
    unsafe: list[tuple[str, str]] = []  # archive members never read: (name, why)

    def __init__(self, root: str | os.PathLike[str]) -> None:
        path = Path(root)
        if not path.exists():
            raise HimfmtError("no such file or directory", str(root))
        if not path.is_dir():
            raise HimfmtError("not a directory", str(root))
        if not os.access(path, os.R_OK | os.X_OK):
            raise HimfmtError("directory is not readable", str(root))
        self.root = path.resolve()
        self._root_str = str(self.root)
        self._prefix = os.path.join(self._root_str, "")  # root + "/": a path is one concatenation (200,000 per pass)
        self._cache: dict[str, list[Entry]] = {}
        # Paths (relative) of symlinks that point outside the root, or dangle.
        self.escapes: list[str] = []
        self.unreadable: list[str] = []
        # Symlinks to one of their own ancestors (directory loops), never followed.
        self.loops: list[str] = []
        # Entries that are neither regular files nor folders (FIFOs, sockets, devices): never opened.
        self.special: list[str] = []
        # Folders with a picture's name (images/00008.jpg/): a loader's glob would open them as images.
        self.picture_dirs: list[str] = []

    def __reduce__(self) -> tuple:
        # Workers get the root only, not the listing cache of a 50,000-sample tree.
        return (Tree, (self._root_str,))

    def __repr__(self) -> str:
        return f"Tree({self._root_str!r})"

    def abspath(self, rel: str) -> str:
        return self._prefix + rel if rel else self._root_str

    def display(self, rel: str) -> str:
        """The path as the user should read it in messages."""
        return self.abspath(rel)

    def _inside(self, target: str) -> bool:
        return target == self._root_str or target.startswith(self._root_str + os.sep)

    def _entry(self, rel: str, e: os.DirEntry[str]) -> Entry | None:
        """A listed name that is not a plain regular file (a link, a folder, something else) as an
        entry, or None when it is not walked (and recorded why)."""
        if e.is_symlink():
            real = os.path.realpath(e.path)
            if os.path.isfile(real):
                return Entry(e.name, False)
            if not self._inside(real) or not os.path.exists(real):
                self.escapes.append(join(rel, e.name))
                return None
            here = os.path.realpath(self.abspath(rel))
            if here == real or here.startswith(real + os.sep):
                self.loops.append(join(rel, e.name))
                return None
        try:
            is_dir = e.is_dir()
            if not is_dir and not e.is_file():
                self.special.append(join(rel, e.name))
                return None
            if is_dir and images.is_image_name(e.name):
                self.picture_dirs.append(join(rel, e.name))
        except OSError:
            is_dir = False
        return Entry(e.name, is_dir)

    def entries(self, rel: str = "") -> list[Entry]:
        """Entries of a directory, sorted by name; [] if it is missing or unreadable.

        The rule for symlinks: a link to a regular file is read wherever it
        points (a ``mode=symlink`` conversion points into its source); a link
        to a folder outside the root, or a link that points nowhere, is left
        out and recorded in ``escapes``, and a link to one of its own
        ancestors in ``loops``: a reader never walks them.
        """
        hit = self._cache.get(rel)
        if hit is not None:
            return hit
        listing = self._scan(rel)
        if listing is None:
            return []
        files, others = listing
        out = [Entry(name, False) for name in files] + others
        out.sort()
        self._cache[rel] = out
        return out

    def names(self, rel: str) -> list[str]:
        """Sorted names in a directory (leaves: not cached), symlinks checked as in ``entries``."""
        listing = self._scan(rel)
        if listing is None:
            return []
        files, others = listing
        out = files + [e.name for e in others] if others else files
        out.sort()
        return out

    def _scan(self, rel: str) -> tuple[list[str], list[Entry]] | None:
        """One listing, unsorted: the names of its plain regular files (the common case, answered
        by the listing itself: 150,000 mattes in a 50,000-image tree), and its other walked entries;
        None when the folder is missing or unreadable (not cached: it may appear later)."""
        files: list[str] = []
        others: list[Entry] = []
        try:
            with os.scandir(self.abspath(rel)) as it:
                for e in it:
                    if e.is_file(follow_symlinks=False):
                        files.append(e.name)
                    elif (entry := self._entry(rel, e)) is not None:
                        others.append(entry)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except PermissionError:
            self.unreadable.append(rel)
            return None
        return files, others

    def dirs(self, rel: str = "") -> list[str]:
        return [e.name for e in self.entries(rel) if e.is_dir]

    def files(self, rel: str = "") -> list[str]:
        return [e.name for e in self.entries(rel) if not e.is_dir]

    def is_dir(self, rel: str) -> bool:
        return os.path.isdir(self.abspath(rel))

    def is_file(self, rel: str) -> bool:
        return os.path.isfile(self.abspath(rel))

    def open(self, rel: str) -> BinaryIO:
        """A regular file, opened for reading (a FIFO or device is refused, never waited on)."""
        return os.fdopen(open_regular(self.abspath(rel)), "rb")

    def read_head(self, rel: str, n: int) -> bytes:
        """The first ``n`` bytes of a regular file: one open and one read, no file object."""
        fd = open_regular(self.abspath(rel))
        try:
            return os.read(fd, n)
        finally:
            os.close(fd)

    def read_bytes(self, rel: str, limit: int = MAX_READ) -> bytes:
        """The whole file, refused when it is larger than ``limit`` (nothing himfmt reads whole is that large)."""
        with self.open(rel) as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise TooLargeError(f"is {size:,} bytes, more than the {limit:,} a picture of this kind can need", self.abspath(rel))
            return f.read(limit + 1)

    def read_image(self, rel: str) -> bytes:
        """An image file's bytes, its size checked against its header's claim before it is read."""
        with self.open(rel) as f:
            return images.read_image_bytes(f, os.fstat(f.fileno()).st_size, self.abspath(rel))

    def file_size(self, rel: str) -> int:
        return os.stat(self.abspath(rel)).st_size

    def stamp(self, rel: str) -> list[int]:
        """What says a source file is still the one a job read: its size and modification time."""
        st = os.stat(self.abspath(rel))
        return [st.st_size, st.st_mtime_ns]

    def copy_to(self, rel: str, out: "OutDir", dst: str, mode: str = "copy") -> str:
        """Put file ``rel`` at ``dst`` of ``out`` unchanged (copy, hard link or symlink); returns the mode used."""
        return out.place(self.abspath(rel), dst, mode)
