"""Job records: JSON lines appended as work finishes, read back by resuming runs, merges and fill.

A kill can cut the last line of a record; it is skipped, so the work it
recorded is done again rather than trusted. Every record in an output's
``.himfmt/`` names the files its job wrote (``"files": [[path, size,
sha256], ...]``), so together they say which files of a tree himfmt made:
what :func:`recorded_files` returns, and all that ``fill`` may ever replace.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any, Iterable

from himfmt.errors import HimfmtError
from himfmt.io.files import RECORD_DIR

MAX_RECORD = 1 << 30  # no plan writes a record this large: a larger one is damaged, never read whole


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every whole JSON object line of a record, in order (cut or foreign lines are skipped).

    Opened like a picture: a regular file only (a FIFO never blocks), read
    in bounded lines; a record larger than :data:`MAX_RECORD` is one error.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise HimfmtError(f"cannot read this record ({exc.strerror})", str(path)) from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise HimfmtError("a record must be a regular file (remove what stands at its name)", str(path))
        if st.st_size > MAX_RECORD:
            raise HimfmtError(
                f"record is damaged: {st.st_size:,} bytes, more than any job writes (remove it to start that job afresh)", str(path)
            )
        out = []
        for line in f:
            try:
                entry = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue  # a line cut by a kill
            if isinstance(entry, dict):
                out.append(entry)
        return out


def records(folder: Path) -> list[Path]:
    """The job records in ``folder/.himfmt/``, sorted by name."""
    rec = folder / RECORD_DIR
    return sorted(p for p in rec.glob("*.jsonl")) if rec.is_dir() else []


def entry_files(entries: Iterable[dict[str, Any]]) -> dict[str, list[Any]]:
    """``path -> [path, size, sha256?]`` of every file the entries name (a later entry wins)."""
    out: dict[str, list[Any]] = {}
    for entry in entries:
        files = entry.get("files")
        if not isinstance(files, list):
            continue
        for f in files:
            if isinstance(f, list) and len(f) >= 2 and isinstance(f[0], str) and isinstance(f[1], int):
                out[f[0]] = f
    return out


def recorded_files(folder: Path) -> dict[str, list[Any]]:
    """Every file any himfmt record of ``folder`` says its job wrote (paths relative to ``folder``)."""
    out: dict[str, list[Any]] = {}
    for rec in records(folder):
        out.update(entry_files(read_jsonl(rec)))
    return out


def size_and_sha256(path: str) -> tuple[int, str]:
    """One read gives both (a stat per file cost 3% of a 200,000-file hard-link run)."""
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256")
        return f.tell(), digest.hexdigest()


def file_intact(root: str, entry: list[Any], digest: bool = False, trust_mtime: bool = True) -> bool:
    """The recorded ``[path, size, sha256?, mtime_ns?]`` is there with its size; with ``digest`` also its
    sha256, read only when the modification time differs from the record's (always with ``trust_mtime``
    false: a deep check, for changes that kept the time)."""
    rel = entry[0]
    if not isinstance(rel, str) or not rel or rel.startswith("/") or ".." in rel.replace("\\", "/").split("/"):
        return False  # a record names only files under its own output (a forged one may name others)
    path = os.path.join(root, rel)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != entry[1]:
            return False
        if not digest or len(entry) < 3 or not isinstance(entry[2], str):
            return True
        if trust_mtime and len(entry) > 3 and entry[3] == st.st_mtime_ns:
            return True
        return size_and_sha256(path)[1] == entry[2]
    except OSError:
        return False


def files_intact(root: str, files: list[list[Any]], digest: bool = False) -> bool:
    """Every recorded ``[path, size, ...]`` (relative to ``root``) is there with its size.

    Resume records trust a file only while it is: a deleted or truncated file
    makes its sample pending again.
    """
    return all(file_intact(root, entry, digest) for entry in files)


def fingerprint(paths: Iterable[str]) -> str:
    """A digest of every file under ``paths`` by relative name, size and modification time.

    A job's record keeps it, so a rerun over inputs that changed since (one
    picture edited, added or removed) is known as another job, not resumed.
    Hidden folders (himfmt's own ``.himfmt``) are left out; a file (a zip, a
    list) counts by its own size and time.
    """
    h = hashlib.sha256()
    for top in paths:
        h.update(f"<{os.path.basename(top)}>\n".encode("utf-8", "surrogateescape"))
        if not os.path.isdir(top):
            try:
                st = os.stat(top)
                h.update(f"{st.st_size} {st.st_mtime_ns}\n".encode())
            except OSError:
                h.update(b"missing\n")
            continue
        for folder, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                path = os.path.join(folder, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                rel = os.path.relpath(path, top)
                h.update(f"{rel}\0{st.st_size} {st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def record_tree(root: Path, job: dict[str, Any]) -> None:
    """Record every file under ``root`` (hidden folders aside) as made by ``job``: for a tree a builder
    wrote whole (the demo's kit trees), in ``.himfmt/<first key>-<its value>.jsonl``."""
    from himfmt.io.files import OutDir

    out = OutDir.at(root)
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = os.path.join(folder, name)
            files.append(out.entry(os.path.relpath(path, root)))
    kind, value = next(iter(job.items()))
    text = json.dumps({"job": job}) + "\n" + json.dumps({"files": files}) + "\n"
    out.write_bytes(f"{RECORD_DIR}/{kind}-{value}.jsonl", text.encode())


def remove_recorded(out: Any, entries: Iterable[dict[str, Any]], keep: frozenset[str] | set[str] = frozenset()) -> int:
    """Remove the files another job's record names (each only while it still has its recorded size), but those
    in ``keep``; returns how many were removed (an ``OutDir``'s removal: never through a link)."""
    return sum(out.remove(f[0], f[1]) for f in entry_files(entries).values() if f[0] not in keep)


def written_names(root: Path) -> set[str]:
    """Every name himfmt's writers gave a file under ``root`` (their lists in ``.himfmt/written/``)."""
    from himfmt.io.files import WRITTEN

    folder = root / WRITTEN
    names: set[str] = set()
    for lst in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
        try:
            fd = os.open(lst, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as f:
            if stat.S_ISREG(os.fstat(fd).st_mode) and os.fstat(fd).st_size <= MAX_RECORD:
                names.update(line.decode("utf-8", "surrogateescape").rstrip("\n") for line in f)
    return names
