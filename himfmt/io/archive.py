"""Zip archives as trees: read a dataset in place, split archives (``.z01``...) included.

:class:`ZipTree` answers what :class:`~himfmt.io.tree.Tree` answers (listings,
file sizes, header reads, bytes) from the archive's central directory and
member streams, so every reader, check and writer works on an archive
unchanged, and nothing is extracted. A split set (``X.z01 ... X.zNN`` beside
``X.zip``, as ``zip -s`` writes and the published HIM datasets ship) is read
as one stream over the parts in order, with each member's offset taken
relative to the part it starts in: no joined copy is written. Member names
that would escape the root (``..``, absolute paths, drive letters) and
symlink members are never listed; they are recorded in ``unsafe`` and
validation reports them (``archive.unsafe_member``).
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from himfmt.errors import BadInputError, HimfmtError
from himfmt.io import images
from himfmt.io.files import RECORD_DIR, OutDir
from himfmt.io.images import MAX_READ, TooLargeError
from himfmt.io.tree import Entry, Tree

SEP = "!/"  # archive path ! member, in messages
_PART = re.compile(r"\.z(\d{2,})$", re.IGNORECASE)


def is_archive(path: str | os.PathLike[str]) -> bool:
    p = Path(path)
    return p.is_file() and (p.suffix.lower() == ".zip" or bool(_PART.search(p.name)))


def split_parts(path: Path) -> list[Path]:
    """The parts of a split set in order (``.z01``, ``.z02``, ..., ``.zip``); [path] for a plain archive."""
    last = path.with_suffix(".zip")
    if not last.is_file():
        raise HimfmtError("the .zip part of this split archive is missing", str(last))
    parts = {p: found for p in path.parent.glob(path.stem + ".[zZ][0-9]*") if (found := _PART.search(p.name))}
    numbered = sorted(parts, key=lambda p: int(parts[p].group(1)))
    for i, p in enumerate(numbered, start=1):
        if int(_PART.search(p.name).group(1)) != i:  # type: ignore[union-attr]
            raise HimfmtError(f"part .z{i:02d} of the split archive is missing", str(path.parent / f"{path.stem}.z{i:02d}"))
    expected = _disk_count(last)
    if expected is not None and expected > MAX_PARTS and not numbered:
        raise HimfmtError(
            f"the archive is damaged: its end record is not readable (it would make this part "
            f"{expected:,} of a split set, and no .z01 lies beside it)",
            str(last),
        )
    if expected is not None and expected != len(numbered) + 1:
        k = len(numbered) + 1
        raise HimfmtError(
            f"part .z{k:02d} of the split archive is missing (the .zip says it is part {expected} of {expected})",
            str(path.parent / f"{path.stem}.z{k:02d}"),
        )
    _same_sizes(numbered)
    return [*numbered, last]


MAX_PARTS = 999  # zip numbers its parts .z01 ... .z99, .z100 ...: a set of more is an end record read as garbage


def _same_sizes(numbered: list[Path]) -> None:
    """Every part but the .zip has the split size: a shorter one was cut short (a download that stopped)."""
    sizes = [p.stat().st_size for p in numbered]
    for p, size in zip(numbered, sizes):
        if size < max(sizes):
            raise HimfmtError(
                f"this part is {size:,} bytes, the set's other parts {max(sizes):,} each (every part but "
                "the .zip has one size): it was cut short; download it again",
                str(p),
            )


def _disk_count(last: Path) -> int | None:
    """How many parts the set has, from the end-of-central-directory record of its .zip (None: unknown)."""
    try:
        with open(last, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - (1 << 16) - 22))
            tail = f.read()
    except OSError:
        return None
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 8 > len(tail):
        return None
    disk = int.from_bytes(tail[at + 4 : at + 6], "little")
    return None if disk == 0xFFFF else disk + 1


def unsafe_name(name: str) -> str | None:
    """Why a member name must not be used as a path under a root, or None."""
    if "\x00" in name:
        return "has a NUL byte"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "is an absolute path"
    if any(part == ".." for part in re.split(r"[/\\]", name)):
        return "climbs out with '..'"
    return None


def normalised(name: str) -> str:
    """A member name as the path it would take: separators unified, empty and '.' parts dropped."""
    return "/".join(p for p in re.split(r"[/\\]", name) if p not in ("", "."))


def is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


MAX_RATIO = 1000.0  # uncompressed / compressed per member (deflate tops out near 1032)
MAX_MEMBER = 16 << 30  # bytes: no image or video member is this large


def member_problem(info: zipfile.ZipInfo, max_ratio: float = MAX_RATIO, max_member: int = MAX_MEMBER) -> str | None:
    """Why a member must never be inflated (a bomb, encrypted), or None."""
    if info.flag_bits & 0x1:
        return "is encrypted (himfmt reads no passwords)"
    if info.file_size > max_member:
        return f"declares {info.file_size:,} bytes, over the {max_member:,}-byte member limit"
    if info.compress_size and info.file_size / info.compress_size > max_ratio:
        return (
            f"would inflate {info.file_size / info.compress_size:,.0f}x "
            f"({info.compress_size:,} -> {info.file_size:,} bytes), over the {max_ratio:,.0f}x limit (a zip bomb)"
        )
    if info.compress_size == 0 and info.file_size > 0:
        return f"declares {info.file_size:,} bytes from nothing"
    return None


class SafeMember(io.RawIOBase):
    """A member's stream whose read errors (bad CRC, data past its size, truncated part) are BadInputError."""

    def __init__(self, raw: BinaryIO, where: str) -> None:
        self.raw, self.where = raw, where

    def _guard(self, fn, *args):  # type: ignore[no-untyped-def]
        try:
            return fn(*args)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, zlib.error) as exc:
            raise BadInputError(f"member is corrupt ({exc})", self.where) from None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        return self._guard(self.raw.read, n)

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def,override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._guard(self.raw.seek, offset, whence)

    def tell(self) -> int:
        return self._guard(self.raw.tell)

    def close(self) -> None:
        self.raw.close()
        super().close()


class JoinedParts(io.RawIOBase):
    """The parts of a split archive as one seekable stream, with a few bytes patched.

    Python's zipfile refuses archives whose ZIP64 locator says they span
    several disks; the locator's disk fields are patched to one disk, and the
    members' offsets are corrected afterwards (:class:`ZipTree`).
    """

    def __init__(self, parts: list[Path]) -> None:
        self.parts = parts
        self.sizes = [p.stat().st_size for p in parts]
        self.starts = [sum(self.sizes[:i]) for i in range(len(parts))]
        self.size = sum(self.sizes)
        self.patches: dict[int, bytes] = {}
        self._files: list[io.BufferedReader | None] = [None] * len(parts)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self._pos = offset if whence == 0 else (self._pos + offset if whence == 1 else self.size + offset)
        if self._pos < 0:
            raise OSError("seek before the start")
        return self._pos

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def]
        view = memoryview(buf).cast("B")
        n = 0
        while n < len(view) and self._pos < self.size:
            i = max(k for k, s in enumerate(self.starts) if s <= self._pos)
            f = self._files[i]
            if f is None:
                f = self._files[i] = open(self.parts[i], "rb")
            f.seek(self._pos - self.starts[i])
            got = f.readinto(view[n : n + min(len(view) - n, self.starts[i] + self.sizes[i] - self._pos)])
            if not got:
                raise OSError(f"{self.parts[i]} is shorter than when the archive was opened")
            for at, data in self.patches.items():
                lo, hi = max(at, self._pos), min(at + len(data), self._pos + got)
                if lo < hi:
                    view[n + lo - self._pos : n + hi - self._pos] = data[lo - at : hi - at]
            n += got
            self._pos += got
        return n

    def close(self) -> None:
        for f in self._files:
            if f is not None:
                f.close()
        super().close()

    def patch_zip64_locator(self) -> None:
        tail_len = min(self.size, 65557 + 20)
        self.seek(self.size - tail_len)
        tail = self.read(tail_len)
        eocd = tail.rfind(b"PK\x05\x06")
        loc = eocd - 20
        if eocd >= 20 and tail[loc : loc + 4] == b"PK\x06\x07":
            at = self.size - tail_len + loc
            self.patches[at + 4] = struct.pack("<I", 0)  # disk holding the ZIP64 end record
            self.patches[at + 16] = struct.pack("<I", 1)  # total number of disks


class ZipTree(Tree):
    """A zip archive (or a split set) read like a directory tree; see the module docstring."""

    is_archive = True

    def __init__(
        self,
        archive: str | os.PathLike[str],
        max_ratio: float = MAX_RATIO,  # noqa: D107 (no Tree.__init__)
        max_member: int = MAX_MEMBER,
    ) -> None:
        self.max_ratio, self.max_member = max_ratio, max_member
        path = Path(archive).resolve()
        if not path.is_file():
            raise HimfmtError("no such archive", str(archive))
        self.archive = path
        split = bool(_PART.findall(path.name)) or any(_PART.search(p.name) for p in path.parent.glob(path.stem + ".[zZ][0-9]*"))
        self.parts = split_parts(path) if split or (_disk_count(path) or 1) > 1 else [path]
        self.root = path
        self._root_str = str(path)
        self._cache: dict[str, list[Entry]] = {}
        self.escapes: list[str] = []
        self.unreadable: list[str] = []
        self.loops: list[str] = []
        self.unsafe: list[tuple[str, str]] = []
        self.skipped: list[str] = []  # members under .himfmt/: himfmt's own records are never taken from an archive
        self.special: list[str] = []  # an archive holds no FIFOs: members are only files and folders
        self.picture_dirs: list[str] = []
        self._fp = JoinedParts(self.parts)
        try:
            if len(self.parts) > 1:
                self._fp.patch_zip64_locator()
            self._zip = zipfile.ZipFile(io.BufferedReader(self._fp, 1 << 16))
        except (zipfile.BadZipFile, OSError, struct.error) as exc:
            what = "one of its parts is truncated or missing" if len(self.parts) > 1 else "not a readable zip archive"
            raise HimfmtError(f"{what} ({exc})", str(path)) from None
        if len(self.parts) > 1:
            self._fix_offsets()
        self._members: dict[str, zipfile.ZipInfo] = {}
        self._index()

    def _fix_offsets(self) -> None:
        """Offsets in a split archive are relative to the part a member starts in."""
        cd_part = self._cd_part()
        shift = self._fp.starts[cd_part]
        for info in self._zip.infolist():
            if info.volume >= len(self._fp.starts):
                raise HimfmtError(f"member {info.filename} starts in part {info.volume + 1}, which is missing", str(self.archive))
            info.header_offset = info.header_offset - shift + self._fp.starts[info.volume]

    def _cd_part(self) -> int:
        """The part the central directory starts in (zipfile added that part's start to every offset)."""
        for i, start in enumerate(self._fp.starts):
            if start <= self._zip.start_dir < start + self._fp.sizes[i]:
                return i
        return len(self._fp.starts) - 1

    def _why_unsafe(self, info: zipfile.ZipInfo, seen: set[str]) -> str | None:
        """Why a member is not read (a path escaping the root, a link, a duplicate, a bomb), or None.

        Duplicates are found on the normalised name: ``./a``, ``a``, ``a//b``, ``a\\b`` and ``a/./b`` are
        each one path on disk, and an unpack would keep whichever came last."""
        name = info.filename
        return (
            unsafe_name(name)
            or ("is a symlink" if is_symlink(info) else None)
            or (
                f"names {normalised(name)!r} again (spelled differently: which copy is meant?)"
                if not info.is_dir() and normalised(name) in seen
                else None
            )
            or (None if info.is_dir() else member_problem(info, self.max_ratio, self.max_member))
        )

    def _add(self, dirs: dict[str, dict[str, bool]], info: zipfile.ZipInfo) -> None:
        """A safe member into the folder index: its parents as folders, itself as a folder or a file."""
        parts = [p for p in PurePosixPath(info.filename.replace("\\", "/")).parts if p not in ("", ".")]
        if not parts:
            return
        for depth in range(len(parts) - 1):
            dirs.setdefault("/".join(parts[:depth]), {})[parts[depth]] = True
            dirs.setdefault("/".join(parts[: depth + 1]), {})
        rel = "/".join(parts)
        if info.is_dir():
            dirs.setdefault("/".join(parts[:-1]), {})[parts[-1]] = True
            dirs.setdefault(rel, {})
        else:
            dirs.setdefault("/".join(parts[:-1]), {}).setdefault(parts[-1], False)
            self._members[rel] = info

    def _index(self) -> None:
        dirs: dict[str, dict[str, bool]] = {"": {}}
        seen: set[str] = set()
        for info in self._zip.infolist():
            if normalised(info.filename).split("/")[0] == RECORD_DIR:
                self.skipped.append(info.filename)  # himfmt's own records are never taken from an archive
                continue
            why = self._why_unsafe(info, seen)
            seen.add(normalised(info.filename))
            if why:
                self.unsafe.append((info.filename, why))
            else:
                self._add(dirs, info)
        for rel in [r for r in self._members if r in dirs]:  # a file 'x' and members 'x/...': neither can be both
            self.unsafe.append((self._members.pop(rel).filename, "is a file and a folder at once in this archive"))
        self._cache = {
            d: sorted(
                Entry(n, is_dir) for n, is_dir in children.items() if n and not (not is_dir and f"{d}/{n}".lstrip("/") not in self._members)
            )
            for d, children in dirs.items()
        }

    def __reduce__(self) -> tuple:
        return (ZipTree, (self._root_str, self.max_ratio, self.max_member))

    def __repr__(self) -> str:
        return f"ZipTree({self._root_str!r})"

    def abspath(self, rel: str) -> str:
        return f"{self._root_str}{SEP}{rel}" if rel else self._root_str

    def entries(self, rel: str = "") -> list[Entry]:
        return self._cache.get(rel, [])

    def names(self, rel: str) -> list[str]:
        return [e.name for e in self.entries(rel)]

    def is_dir(self, rel: str) -> bool:
        return rel in self._cache

    def is_file(self, rel: str) -> bool:
        return rel in self._members

    def _info(self, rel: str) -> zipfile.ZipInfo:
        info = self._members.get(rel)
        if info is None:
            raise BadInputError("no such member in the archive", self.abspath(rel))
        return info

    def open(self, rel: str) -> BinaryIO:
        try:
            raw = self._zip.open(self._info(rel))
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, EOFError, zlib.error) as exc:
            raise BadInputError(f"cannot read the member ({exc})", self.abspath(rel)) from None
        return io.BufferedReader(SafeMember(raw, self.abspath(rel)))  # type: ignore[arg-type,return-value]

    def read_head(self, rel: str, n: int) -> bytes:
        with self.open(rel) as f:
            return f.read(n)

    def read_bytes(self, rel: str, limit: int = MAX_READ) -> bytes:
        size = self._info(rel).file_size
        if size > limit:
            raise TooLargeError(f"is {size:,} bytes, more than the {limit:,} a picture of this kind can need", self.abspath(rel))
        with self.open(rel) as f:
            return f.read()  # the stream checks the member's CRC at its end

    def read_image(self, rel: str) -> bytes:
        with self.open(rel) as f:
            return images.read_image_bytes(f, self._info(rel).file_size, self.abspath(rel))

    def file_size(self, rel: str) -> int:
        return self._info(rel).file_size

    def stamp(self, rel: str) -> list[int]:
        """A member's size and CRC: its content's own digest, whatever the archive's dates say."""
        info = self._info(rel)
        return [info.file_size, info.CRC]

    def members(self) -> list[tuple[str, zipfile.ZipInfo]]:
        """Every member that may be used, by its path under the root."""
        return sorted(self._members.items())

    def copy_to(self, rel: str, out: OutDir, dst: str, mode: str = "copy") -> str:
        if mode != "copy":
            raise HimfmtError(f"mode={mode} is impossible from an archive (nothing to link to); use mode=copy", self.abspath(rel))
        out.write_bytes(dst, self.read_bytes(rel))
        return "copy"


def open_tree(root: str | os.PathLike[str]) -> Tree:
    """A directory, or a zip archive (plain or split) read in place."""
    return ZipTree(root) if is_archive(root) else Tree(root)
