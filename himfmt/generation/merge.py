"""Sharded runs on Hydra's launchers: deterministic shards, per-shard logs, one merge at the end.

himfmt has no scheduler. ``shard.index``/``shard.count`` pick a fixed share
of the work from sorted inputs (item ``i`` of the sorted list goes to shard
``i % count``), so the shards' union is exactly the unsharded run, and every
shard may write into the same output: files land atomically and each shard
keeps its own resume record in ``<out>/.himfmt/``. Hydra's launchers
(basic, joblib, submitit for SLURM, Ray) run the shards; the
callback registered in ``conf/base.yaml`` keeps each shard's
log and exit code in the sweep folder (next to the output) and, when the
sweep is over, merges the shard records and validates the merged output, in
the process that launched the sweep (:mod:`himfmt.cli.sweep_callback`). ``himfmt merge root=DIR`` does the same
by hand (after a SLURM array submitted without waiting, for instance).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omegaconf import DictConfig

from himfmt.errors import HimfmtError
from himfmt.feedback import Voice
from himfmt.io.files import RECORD_DIR, atomic_write
from himfmt.io.pool import worker_count
from himfmt.io.records import read_jsonl


def suffixed(path: str | Path, index: int, count: int) -> Path:
    """``report.json`` -> ``report.shard2of8.json`` for a shard's own copy of a single output file."""
    p = Path(path)
    return p if count == 1 else p.with_name(f"{p.stem}.shard{index}of{count}{p.suffix}")


@dataclass
class Merged:
    records: list[str] = field(default_factory=list)  # what was merged, for the summary
    reports: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)  # shards that never ran, ids no shard made (not merged)


def merge_records(out: Path) -> Merged:
    """One record per job in ``<out>/.himfmt/``: shard records of synth and convert folded together."""
    merged = Merged()
    folder = out / RECORD_DIR
    if not folder.is_dir():
        return merged
    groups: dict[str, list[Path]] = {}
    for rec in sorted(folder.glob("*-shard*of*.jsonl")):
        groups.setdefault(rec.name.split("-shard", 1)[0], []).append(rec)
    for job, files in groups.items():
        whole = folder / f"{job}-shard0of1.jsonl" if job.startswith("synth-") else folder / f"{job}.jsonl"
        if files == [whole]:
            continue
        left = unfinished(job, whole, files)
        if left:
            merged.unfinished += [f"{job}: {line}" for line in left]
            continue  # kept as shard records: a merge after the missing shards ran sees them all
        merged.records.append(_merge_job(job, whole, files))
    return merged


SHARD_NAME = re.compile(r"-shard(\d+)of(\d+)\.jsonl$")


def unfinished(job: str, whole: Path, files: list[Path]) -> list[str]:
    """What a sharded job's plan holds that no shard finished: shards without a record (never run), then the
    ids (synth) or samples (convert) that no record has, each named."""
    key = "id" if job.startswith("synth-") else "sample"
    expected: set[str] = set()
    done: set[str] = set()
    ran: set[int] = set()
    count = 0
    for f in files + ([whole] if whole.exists() and whole not in files else []):
        m = SHARD_NAME.search(f.name)
        if m and int(m.group(2)) > 1:
            ran.add(int(m.group(1)))
            count = int(m.group(2))
        for e in read_jsonl(f):
            plan = e.get("plan")
            if isinstance(plan, dict):
                expected |= _planned(plan)
            elif key in e:
                done.add(str(e[key]))
    missing = sorted(expected - done, key=lambda x: (len(x), x))
    if not missing:
        return []  # every planned id is done (a later whole run may have made what a shard did not)
    out = [
        f"shard {k} of {count} has no record: it never ran (run shard.index={k} shard.count={count})"
        for k in sorted(set(range(count)) - ran)
    ]
    what = "ids" if key == "id" else "samples"
    return out + [
        f"{len(missing)} of {len(expected)} {what} no shard made: {', '.join(missing[:10])}" + (", ..." if len(missing) > 10 else "")
    ]


def _planned(plan: dict[str, Any]) -> set[str]:
    if "samples" in plan:
        return {str(s) for s in plan["samples"]}
    first, n = int(plan.get("first", 0)), int(plan.get("n", 0))
    return {str(i) for i in range(first, first + n)}


def _merge_job(job: str, whole: Path, files: list[Path]) -> str:
    """Fold one job's shard records (and its whole record, if any) into ``whole``; says what was merged."""
    lines: list[dict[str, Any]] = []
    header: dict[str, Any] | None = None
    for f in ([whole] if whole.exists() else []) + [f for f in files if f != whole]:
        entries = read_jsonl(f)
        header = _same_job(header, entries, f)
        lines += entries[1:] if entries and "job" in entries[0] else entries
    key = "id" if job.startswith("synth-") else "sample"
    latest = {str(e[key]): e for e in lines if key in e}  # a redone sample's last line wins
    text = "".join(json.dumps(e) + "\n" for e in ([header] if header else []) + list(latest.values()))
    atomic_write(whole, text.encode())
    for f in files:
        if f != whole:
            f.unlink()
    return f"{whole.name} <- {len(files)} record(s), {len(latest)} entries"


def _same_job(header: dict[str, Any] | None, entries: list[dict[str, Any]], f: Path) -> dict[str, Any] | None:
    """The job line every record starts with, the same in every shard's record."""
    if not entries or "job" not in entries[0]:
        return header
    if header is not None and entries[0].get("job") != header.get("job"):
        raise HimfmtError("shard records of different jobs in one output; not merged", str(f))
    return header or entries[0]


def merge_reports(report: str | Path) -> Path | None:
    """Shard copies of a JSON validation report (``report.shardKofN.json``) folded into ``report``."""
    from himfmt.validation.report import Report

    target = Path(report)
    parts = sorted(target.parent.glob(f"{target.stem}.shard*of*{target.suffix}"))
    if not parts:
        return None
    merged = Report.merge([Report.from_json(p.read_text()) for p in parts])
    atomic_write(target, merged.to_json().encode())
    for p in parts:
        p.unlink()
    return target


def merge_after_sweep(config: DictConfig, voice: Voice) -> int:
    """What a finished sweep over shards leaves to do, by command: merge, then validate."""
    from himfmt.validation.report import Report

    if "dataset" in config:  # fill: fold each split's records, then a dry run shows what is left
        return _fill_after_sweep(config, voice)
    out = config.get("out") or config.get("dst")
    if config.get("report") and not out:  # validate: fold the shard reports
        target = merge_reports(str(config.report))
        if target is None:
            return 1
        report = Report.from_json(target.read_text())
        voice.say(f"merged report: {target}")
        voice.show(report)
        return 1 if report.fails(str(config.get("fail_on", "error"))) else 0
    if not out:
        return 0
    return merge_and_validate(Path(str(out)).resolve(), False, voice)


def _fill_after_sweep(config: DictConfig, voice: Voice) -> int:
    from omegaconf import OmegaConf, open_dict

    from himfmt.generation.engine import dataset_config, fill
    from himfmt.generation.splits import entries

    cfg = OmegaConf.masked_copy(config, [str(k) for k in config if k != "hydra"])
    with open_dict(cfg):
        cfg.shard.index, cfg.shard.count, cfg.dry_run = 0, 1, True
    ds_cfg = dataset_config(cfg)
    root = Path(str(ds_cfg.root)).resolve()
    for path in sorted({e.path for e in entries(ds_cfg, root)}):
        for line in merge_records(path).records if path.is_dir() else []:
            voice.say(f"merged {path.name}/.himfmt/{line}")
    left, _ = fill(cfg, voice)
    if left:
        voice.say(f"{left} split(s) not complete yet (a later wave, or a failed shard): run the same sweep again")
    return 1 if left else 0


def merge_and_validate(root: Path, deep: bool, voice: Voice, report: str | None = None) -> int:
    """Fold shard records under ``root`` and validate the merged tree (``himfmt merge``)."""
    from himfmt.validation import validate

    if not root.is_dir():
        raise HimfmtError("no such directory", str(root))
    merged = merge_records(root)
    for line in merged.records:
        voice.say(f"merged {line}")
    for line in merged.unfinished:
        voice.error(f"not merged: {line}")
    if not merged.records and not merged.unfinished:
        voice.say("no shard records to merge")
    with voice.progress("validating", elapsed=True) as bar:
        result = validate(str(root), deep_pass=deep, workers=worker_count(0), progress=bar)
    voice.show(result)
    if report:
        atomic_write(Path(report).resolve(), result.to_json().encode())
    return 1 if result.fails("error") or merged.unfinished else 0
