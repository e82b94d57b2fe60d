"""Run a recipe for ids 0..n-1: deterministic, sharded, parallel and resumable.

Sample ``i`` draws only from ``rng(seed, recipe/split, i, attempt)`` (``recipe``
names the recipe and, for video_him, its difficulty; the split is in the key,
so a test split never repeats a training split's samples) and from inputs
sorted by name, so its output does not depend on worker count, shard split or
process start method. Shard ``k`` of ``K`` makes ids ``i % K == k``. Each
shard appends to its own record in ``<out>/.himfmt/``; a rerun skips ids
already written (or rejected) by any shard. A rejected draw (nobody
placeable, an occlusion rule broken) is retried with the next ``attempt`` of
the same id, so names stay gap-free; only an id whose attempts all fail is
recorded as rejected.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from himfmt.conversion.route import Route
from himfmt.errors import BadInputError, HimfmtError
from himfmt.feedback import Progress, no_progress
from himfmt.io.files import RECORD_DIR, JobLock, OutDir, remove_tmp_files
from himfmt.io.pool import parallel_map
from himfmt.io.records import files_intact, read_jsonl, recorded_files, remove_recorded, written_names
from himfmt.layouts import WriteOptions, get_layout
from himfmt.layouts.writer import write_item
from himfmt.synthesis.recipe import Recipe


def rng_for(seed: int, recipe: str, i: int, attempt: int = 0) -> np.random.Generator:
    """The only source of randomness of sample ``i``."""
    return np.random.default_rng([int(seed), zlib.crc32(recipe.encode()), int(i), int(attempt)])


@dataclass
class Plan:
    recipe: Recipe
    out: Path
    layout: str
    split: str
    n: int
    first: int = 0  # ids run first .. first + n - 1 (e.g. the published ids of a schedule)
    seed: int = 0
    attempts: int = 10
    shard_index: int = 0
    shard_count: int = 1
    workers: int = 1
    opts: WriteOptions = field(default_factory=WriteOptions)
    # Steps from the recipe's own layout to ``layout`` when they differ (see himfmt.conversion.route).
    route: Route | None = None
    # Output files (relative to ``out``) to make again although their ids are recorded as done (a repair).
    redo: frozenset[str] = frozenset()
    # Samples are named <split>_<id>: runs of several splits share one namespace in ``layout``.
    prefix_split: bool = False
    jpeg_quality: int = 75
    # What makes two runs the same job (recipe, its parameters, seed, layout, split, the inputs' files):
    # the first line of every record; a rerun resumes only a record of the same key.
    key: dict[str, Any] = field(default_factory=dict)
    overwrite: bool = False  # a record of another job is replaced (its files removed), not refused
    protect: bool = True  # replace only files himfmt made (``fill`` protects, while it replaces other jobs' records)
    # Files already in ``out`` that himfmt made (its records and writers' lists name them): the only ones a
    # sample may replace; None: any may be.
    owned: frozenset[str] | None = None
    root_id: tuple[int, int] | None = None  # (device, inode) of out where the job began: workers check it

    def ids(self) -> list[int]:
        if not 0 <= self.shard_index < self.shard_count:
            raise HimfmtError(f"shard.index must be in 0..{self.shard_count - 1}, not {self.shard_index}")
        return [i for i in range(self.first, self.first + self.n) if i % self.shard_count == self.shard_index]

    def record_rel(self) -> str:
        return f"{RECORD_DIR}/synth-{self.recipe.name}-{self.split}-shard{self.shard_index}of{self.shard_count}.jsonl"

    def records(self) -> list[Path]:
        """Every shard's record of this recipe and split in ``out``."""
        folder = self.out / RECORD_DIR
        return sorted(folder.glob(f"synth-{self.recipe.name}-{self.split}-shard*.jsonl")) if folder.is_dir() else []


@dataclass
class Result:
    written: int = 0
    rejected: list[int] = field(default_factory=list)
    why_rejected: str | None = None  # an input's problem behind a rejection, when one was at fault
    skipped: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    retries: int = 0
    replaced: int = 0  # files of another job's record removed (overwrite=true)


def done_ids(plan: Plan) -> set[int]:
    """Ids any shard of this job has finished: rejected, or written with every file intact and none in ``redo``."""
    latest: dict[int, dict[str, Any]] = {}
    for rec in plan.records():
        for entry in read_jsonl(rec):
            try:
                latest[int(entry["id"])] = entry
            except (KeyError, ValueError, TypeError):
                continue  # the job line, or not an id's line: that id is made again
    root = str(plan.out)
    return {
        i
        for i, e in latest.items()
        if e.get("status") == "rejected"
        or (files_intact(root, e.get("files", [])) and not any(f[0] in plan.redo for f in e.get("files", [])))
    }


def differences(old: Any, new: dict[str, Any]) -> list[str]:
    """What differs between an earlier job's key and this one's, in words."""
    if not isinstance(old, dict):
        return ["the record has no job line (damaged, or written by an older himfmt)"]
    out = []
    for k in sorted(set(old) | set(new)):
        if old.get(k) != new.get(k):
            out.append("the inputs' files changed" if k == "inputs" else f"{k}: {old.get(k)!r} -> {new.get(k)!r}")
    return out


def check_records(plan: Plan, out: OutDir) -> int:
    """Refuse, or with ``overwrite`` replace, records of this recipe and split that another job wrote.

    Replacing removes the files the other job recorded (each only while it
    still has its recorded size) and then its records; returns how many
    files were removed.
    """
    removed = 0
    for rec in plan.records():
        entries = read_jsonl(rec)
        old = entries[0].get("job") if entries and "job" in entries[0] else None
        if old == plan.key:
            continue
        if not plan.overwrite:
            raise HimfmtError(
                f"holds the output of another synth job ({RECORD_DIR}/{rec.name}: "
                f"{'; '.join(differences(old, plan.key))}); pass overwrite=true to make it afresh, "
                "or choose another out=",
                str(plan.out),
            )
        removed += remove_recorded(out, entries)
        rec.unlink()
    return removed


_PLAN: Plan | None = None  # set once per worker process: tasks then carry only an id


def _init_worker(plan: Plan) -> None:
    global _PLAN
    _PLAN = plan


def _make_id(i: int) -> dict[str, Any]:
    assert _PLAN is not None
    return _make_one(_PLAN, i)


def not_ours(plan: Plan, out: OutDir, paths: list[str]) -> str | None:
    """Why a sample may not be written: files at its paths that himfmt did not make (None: it may)."""
    if plan.owned is None:
        return None
    theirs = [p for p in paths if p not in plan.owned and os.path.lexists(out.display(p))]
    if not theirs:
        return None
    return (
        f"{out.display(theirs[0])} is there and was not made by himfmt ({len(theirs)} such file(s) in this "
        "sample); left alone: overwrite=true replaces them"
    )


def _make_one(plan: Plan, i: int) -> dict[str, Any]:
    lay = get_layout(plan.layout)
    for attempt in range(plan.attempts):
        try:
            sample = plan.recipe.make(i, rng_for(plan.seed, f"{plan.recipe.name}/{plan.split}", i, attempt))
        except BadInputError as exc:
            return {"id": i, "status": "failed", "message": str(exc)}
        if sample is None:
            continue
        sample.split = plan.split
        if plan.prefix_split:
            sample.id = f"{plan.split}_{sample.id}"
        files = []
        out = OutDir.at(plan.out, expect=plan.root_id)
        items = [item for one in (plan.route.apply(sample) if plan.route else [sample]) for item in lay.plan(one, plan.split, plan.opts)]
        theirs = not_ours(plan, out, [item.path for item in items])
        if theirs:
            return {"id": i, "status": "failed", "message": theirs}
        for item in items:
            write_item(out, item, quality=plan.jpeg_quality)
            files.append(out.entry(item.path))
        return {"id": i, "status": "ok", "attempt": attempt, "files": files}
    why = getattr(plan.recipe, "last_problem", None)
    return {"id": i, "status": "rejected", "attempts": plan.attempts, **({"why": why} if why else {})}


def run(plan: Plan, progress: Progress = no_progress) -> Result:
    result = Result()
    with JobLock(plan.out, plan.key, f"synth {plan.recipe.name} {plan.split}") as lock:
        out = lock.out
        assert out is not None
        plan = replace(plan, root_id=out.identity())
        result.replaced = check_records(plan, out)
        remove_tmp_files(plan.out)  # left by a killed run; their ids are not recorded, so they are redone
        if plan.protect:
            plan = replace(plan, owned=frozenset(recorded_files(plan.out)) | written_names(plan.out))
        done = done_ids(plan)
        todo = [i for i in plan.ids() if i not in done]
        result.skipped = len(plan.ids()) - len(todo)
        try:
            _write(plan, out, todo, result, progress(len(todo), plan.recipe.name))
        except BaseException:
            remove_tmp_files(plan.out)  # the stopped workers' half-written files (their ids are not recorded)
            raise
    return result


def _write(plan: Plan, out: OutDir, todo: list[int], result: Result, advance: Callable[[int], None]) -> None:
    with out.open_append(plan.record_rel(), json.dumps({"job": plan.key}) + "\n") as rec:
        # What this run was to make, for the merge of a sharded run to name what no shard made.
        rec.write(json.dumps({"plan": {"first": plan.first, "n": plan.n, "shard": [plan.shard_index, plan.shard_count]}}) + "\n")
        rec.flush()
        for entry in _results(plan, todo):
            if entry["status"] == "failed":
                result.failed.append((entry["id"], entry["message"]))
            else:
                if entry["status"] == "ok":
                    result.written += 1
                    result.retries += entry["attempt"]
                else:
                    result.rejected.append(entry["id"])
                    result.why_rejected = result.why_rejected or entry.get("why")
                rec.write(json.dumps(entry) + "\n")
                rec.flush()
            advance(1)


def _results(plan: Plan, todo: list[int]) -> Iterator[dict[str, Any]]:
    return parallel_map(_make_id, todo, len(todo), plan.workers, _init_worker, (plan,))
