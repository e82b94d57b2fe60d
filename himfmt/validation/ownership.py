"""Which files of a split himfmt made, and whether they are still what it made.

``fill`` may replace only what its own records name. Every job that writes
into a tree records each file with its size and sha256 in the tree's
``.himfmt/`` (synth, convert, kit trees, mask sets and trimaps); a record's
job line names the split it made where it made one. From those records a
split's files fall into three sets: made by himfmt and intact, made by
himfmt but missing or changed since (to make again), and not made by himfmt
at all (the user's: left alone unless ``overwrite=true``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from himfmt.io.records import file_intact, read_jsonl, records, written_names
from himfmt.model import Sample, sample_files


@dataclass
class Ownership:
    made: dict[str, list[Any]] = field(default_factory=dict)  # path -> [path, size, sha256] this split's records name
    derived: set[str] = field(default_factory=set)  # those of them that are mask sets or trimaps
    other: set[str] = field(default_factory=set)  # files other records at the same path name (other splits)
    written: set[str] = field(default_factory=set)  # names himfmt's writers gave files here (a killed run's too)
    jobs: list[dict[str, Any]] = field(default_factory=list)  # the synth jobs whose records name this split

    def damaged(self, root: Path, deep: bool = False) -> list[str]:
        """Recorded files that are missing, or whose size or sha256 differ from the record (the sha256 is
        read where the modification time changed, or always when ``deep``)."""
        return sorted(p for p, entry in self.made.items() if not file_intact(str(root), entry, digest=True, trust_mtime=not deep))

    def foreign(self, samples: Iterable[Sample]) -> list[str]:
        """Files of these samples that no himfmt record names."""
        have = set(self.made) | self.other | self.written
        return sorted({p for s in samples for p in sample_files(s)} - have)


def of_split(root: Path, split: str) -> Ownership:
    """What the records in ``root/.himfmt/`` say about ``split``."""
    return of_splits(root, [split])[split]


def of_splits(root: Path, splits: list[str]) -> dict[str, Ownership]:
    """What the records in ``root/.himfmt/`` say about each split, every record read once: a record whose job
    names a split belongs to that split; a record naming none (a conversion, a kit tree) to every split."""
    written = written_names(root)
    owns = {split: Ownership(written=written) for split in splits}
    for rec in records(root):
        entries = read_jsonl(rec)
        first = entries[0].get("job") if entries else None
        job: dict[str, Any] = first if isinstance(first, dict) else {}
        for split, own in owns.items():
            _take(own, split, job, entries)
    return owns


def _take(own: Ownership, split: str, job: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    if "recipe" in job and job.get("split") == split:
        own.jobs.append(job)
    for entry in entries:
        mine = entry.get("split", job.get("split", split)) == split
        for f in entry.get("files") or []:
            if not (isinstance(f, list) and len(f) >= 2 and isinstance(f[0], str)):
                continue
            if mine:
                own.made[f[0]] = f
                if "derived" in job:
                    own.derived.add(f[0])
            else:
                own.other.add(f[0])
