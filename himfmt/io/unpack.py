"""Unpack an archive (plain or split) safely: nothing outside ``out``, no bombs, every CRC checked.

Every member is checked before anything is written: a name that escapes
``out`` (absolute, drive letter, ``..``) or a symlink member stops the run,
and so does a member whose declared size or compression ratio is absurd, or
an archive whose total is over the limit. Members are then streamed to a
temporary name and renamed into place. A member that inflates past its
declared size (a bomb that lies in its header) is cut off there: zipfile's
stream stops at the declared size, whose CRC then fails, and the bytes are
counted here as well. Every member's CRC is checked at the end of its stream.
``<out>/.himfmt/unpack.json`` names the archive and every file the unpack
makes: a rerun into that folder is a resume, which keeps a file only when
its size and CRC-32 match the member (so a newer release with a changed
member of the same size is not left stale) and unpacks the rest. After an
unpack, ``out`` holds exactly the archive: files an earlier unpack made that
this archive lacks (an older release with more samples) are removed and
listed; a file no unpack made stops it, and so does a link anywhere in
``out``, before anything is counted. Members under ``.himfmt/`` are never
extracted (listed as skipped). A non-empty folder without that record is
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
from typing import Any

from himfmt.errors import HimfmtError, WriteError
from himfmt.feedback import Progress, no_progress
from himfmt.io.archive import MAX_MEMBER, MAX_RATIO, ZipTree
from himfmt.io.files import RECORD_DIR, OutDir, check_rel

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
    removed: list[str] = field(default_factory=list)  # files an earlier unpack made that this archive lacks


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


def _record(out: Path) -> dict[str, Any]:
    """The unpack record in ``out`` ({} when there is none, or it is damaged): read like a picture."""
    data = OutDir.at(out).read_bytes(RECORD, 1 << 30) if out.is_dir() else None
    try:
        rec = json.loads(data) if data else {}
    except ValueError:
        return {}
    return rec if isinstance(rec, dict) else {}


def unpacked_before(out: Path, archive: Path) -> bool:
    """``out`` holds the record of unpacking an archive of this name (so a run there is a resume)."""
    return _record(out).get("archive") == archive.name


def on_disk(out: Path) -> list[str]:
    """Every file in ``out`` (himfmt's folder aside), relative; a link anywhere stops the unpack."""
    files = []
    for folder, dirs, names in os.walk(out):
        rel = os.path.relpath(folder, out)
        if rel == ".":
            dirs[:] = [d for d in dirs if d != RECORD_DIR]
        for name in dirs + names:
            if os.path.islink(os.path.join(folder, name)):
                raise HimfmtError(
                    "is a link inside the output; unpack never follows a link (remove it, or choose another out=)",
                    os.path.join(folder, name),
                )
        files += [name if rel == "." else f"{rel}/{name}" for name in names]
    return sorted(files)


def _make_room(target: OutDir, out: Path, members: set[str], overwrite: bool, result: Unpacked) -> list[str]:
    """Stop for files no unpack made (unless ``overwrite``); remove those an earlier unpack made that this
    archive lacks (the record of what this unpack makes is written next, before it makes any). Returns the
    files kept beside the archive's (the user said so once: later runs do not stop for them)."""
    rec = _record(out)
    made_before, beside = set(rec.get("files") or []), set(rec.get("beside") or [])
    theirs = [f for f in on_disk(out) if f not in made_before and f not in members]
    if [f for f in theirs if f not in beside] and not overwrite:
        raise HimfmtError(
            f"holds {len(theirs)} file(s) no unpack made (e.g. {theirs[0]}); move them, or pass "
            "overwrite=true to keep them beside the archive's files",
            str(out),
        )
    for rel in sorted(made_before - members):
        if target.remove(rel):
            result.removed.append(rel)
    return sorted(theirs)


def unpack(tree: ZipTree, out: Path, limits: Limits, progress: Progress = no_progress, overwrite: bool = False) -> Unpacked:
    """Check every member, then extract what is not there yet (see the module docstring)."""
    problems = check(tree, limits)
    if problems:
        more = [f"... and {len(problems) - 20} more"] if len(problems) > 20 else []
        raise HimfmtError(
            f"refusing to unpack ({len(problems)} unsafe member(s)); nothing was written:", str(tree.archive), problems[:20] + more
        )
    members = tree.members()
    target = OutDir.begin(out)
    result = Unpacked()
    try:
        beside = _make_room(target, out, {rel for rel, _ in members}, overwrite, result)
        target.write_bytes(
            RECORD, json.dumps({"archive": Path(tree.archive).name, "beside": beside, "files": sorted(rel for rel, _ in members)}).encode()
        )
        _extract_all(tree, target, members, result, progress)
    finally:
        target.end()
    return result


def _extract_all(tree: ZipTree, target: OutDir, members: list[tuple[str, zipfile.ZipInfo]], result: Unpacked, progress: Progress) -> None:
    advance = progress(sum(info.file_size for _, info in members), "unpack")
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
