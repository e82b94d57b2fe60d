"""Unpack an archive (plain or split) safely: nothing outside ``out``, no bombs, every CRC checked.

Every member is checked before anything is written: a name that escapes
``out`` (absolute, drive letter, ``..``) or a symlink member stops the run,
and so does a member whose declared size or compression ratio is absurd, or
an archive whose total is over the limit. Members are then streamed to a
temporary name and renamed into place. A member that inflates past its
declared size (a bomb that lies in its header) is cut off there: zipfile's
stream stops at the declared size, whose CRC then fails, and the bytes are
counted here as well. Every member's CRC is checked at the end of its stream.
``<out>/.himfmt/unpack.json`` names the archive: a rerun into that folder is
a resume, which keeps a file only when its size and CRC-32 match the member
(so a newer release with a changed member of the same size is not left
stale) and unpacks the rest. A non-empty folder without that record is
refused unless ``overwrite=true``.
"""
from __future__ import annotations

import json
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path


from .progress import Progress, no_progress
from .errors import HimfmtError, WriteError
from .io.archive import MAX_MEMBER, MAX_RATIO, ZipTree
from .io.files import RECORD_DIR, OutDir, check_rel

CHUNK = 1 << 20
RECORD = f"{RECORD_DIR}/unpack.json"  # which archive was unpacked here: a rerun is a resume


@dataclass
class Limits:
    max_ratio: float = MAX_RATIO  # uncompressed / compressed per member
    max_member: int = MAX_MEMBER  # bytes
    max_total: int = 4 << 40  # bytes for the whole archive


@dataclass
class Unpacked:
    written: int = 0
    kept: int = 0
    bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def check(tree: ZipTree, limits: Limits) -> list[str]:
    """Why the archive must not be unpacked: one line per problem member (empty when safe).

    The tree was opened with the member limits, so bombs, encrypted members,
    duplicates and file/folder clashes are among its unsafe members.
    """
    problems = [f"{name}: {why}" for name, why in tree.unsafe]
    total = sum(info.file_size for _, info in tree.members())
    if total > limits.max_total:
        problems.append(f"the archive declares {total:,} bytes in all, over the {limits.max_total:,}-byte limit")
    return problems


def _extract(tree: ZipTree, rel: str, info: zipfile.ZipInfo, out: OutDir) -> int:
    """Stream one member to ``rel`` of ``out`` through a temporary name; returns its size."""
    n = 0
    try:
        with out.open_pending(rel) as f, tree.open(rel) as src:
            while chunk := src.read(CHUNK):
                n += len(chunk)
                if n > info.file_size:
                    raise HimfmtError(f"inflates past its declared {info.file_size:,} bytes (a zip bomb); cut off", tree.abspath(rel))
                f.write(chunk)
            if n != info.file_size:
                raise HimfmtError(f"holds {n:,} bytes, its header declares {info.file_size:,}", tree.abspath(rel))
    except zipfile.BadZipFile as exc:  # the CRC check at the end of the stream, or a damaged member
        raise HimfmtError(f"member is corrupt ({exc})", tree.abspath(rel)) from None
    return n


def matches_member(path: str, info: zipfile.ZipInfo) -> bool:
    """The file at ``path`` is a regular file with the member's size and CRC-32 (what a resume may keep)."""
    try:
        st = os.stat(path, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode) or st.st_size != info.file_size:
            return False
        crc = 0
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                crc = zlib.crc32(chunk, crc)
        return crc == info.CRC
    except OSError:
        return False


def unpacked_before(out: Path, archive: Path) -> bool:
    """``out`` holds the record of unpacking an archive of this name (so a run there is a resume)."""
    try:
        return json.loads((out / RECORD).read_text()).get("archive") == archive.name
    except (OSError, ValueError, AttributeError):
        return False


def unpack(tree: ZipTree, out: Path, limits: Limits,
           progress: Progress = no_progress) -> Unpacked:
    """Check every member, then extract what is not there yet (see the module docstring)."""
    problems = check(tree, limits)
    if problems:
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise HimfmtError("refusing to unpack, nothing was written:\n  " + "\n  ".join(problems[:20]) + more, str(tree.archive))
    members = tree.members()
    target = OutDir.at(out)
    target.forget_dirs()  # folders may have changed since an earlier job of this process
    target.write_bytes(RECORD, json.dumps({"archive": Path(tree.archive).name}).encode())
    advance = progress(sum(info.file_size for _, info in members), "unpack")
    result = Unpacked()
    for rel, info in members:
        check_rel(rel)  # the names were checked; this refuses anything else escaping
        try:
            if matches_member(target.display(rel), info):
                result.kept += 1
            else:
                result.bytes += _extract(tree, rel, info, target)
                result.written += 1
        except WriteError:
            raise  # a full or read-only disk fails every member after it too: stop at the first
        except HimfmtError as exc:
            result.failed.append((rel, str(exc)))
        advance(info.file_size)
    return result
