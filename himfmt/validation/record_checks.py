"""Files himfmt's own records say a job made, and that are no longer there as it made them.

A tree that himfmt synthesized or converted keeps, in ``.himfmt/`` beside
the job's output, every file the job wrote with its size. A file deleted or
cut short since leaves a tree that is valid in form (a sample with one
matte fewer still loads) but is not what was made: the structure pass says
so, one finding per file, and ``himfmt fill`` (or the same job run again)
makes it again. Only sizes are compared here; ``himfmt fill`` also reads
digests.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from himfmt.io.records import file_intact
from himfmt.model import Dataset
from himfmt.validation.catalog import Finding, finding
from himfmt.validation.ownership import of_splits
from himfmt.validation.registry import check


def _outs(path: str) -> Iterator[str]:
    """The dataset's folder and every folder above it inside the tree: where a job that made it keeps records."""
    while True:
        yield path
        if not path:
            return
        path = path.rpartition("/")[0]


@check("structure", "dataset", ("record.file_missing",))
def recorded_files_present(ds: Dataset) -> Iterator[Finding]:
    if ds.tree.is_archive:
        return
    seen: set[str] = set()
    for out in _outs(ds.path):
        folder = ds.tree.abspath(out)
        for own in of_splits(Path(folder), list(ds.splits)).values():
            for rel, entry in sorted(own.made.items()):
                where = f"{out}/{rel}" if out else rel
                if where in seen or (ds.path and not where.startswith(ds.path + "/")):
                    continue
                seen.add(where)
                if not file_intact(folder, entry):
                    yield finding(
                        "record.file_missing",
                        where,
                        None,
                        f"the record of the job that made this tree names it ({entry[1]:,} bytes); it is "
                        + ("not there" if not os.path.lexists(os.path.join(folder, rel)) else "another size now"),
                    )
