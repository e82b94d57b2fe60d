"""``himfmt fix``: a repaired copy of a tree, every change listed, then what is left."""

from __future__ import annotations

from himfmt.cli import console, views
from himfmt.cli.voice import VOICE
from himfmt.options import FixOptions
from himfmt.repair.job import fix

SUMMARY = "write a repaired copy of root=DIR into out=DIR, every change listed [deep=true] [dry_run=true]"


def run(cfg: FixOptions) -> int:
    done = fix(cfg, VOICE)
    views.show(done, console.out)
    failed = [(key, message) for _, _, summary in done.copies for key, message in summary.failed]
    for key, message in failed[:10]:
        console.error(f"{key}: {message}")
    if done.dry_run:
        return 0
    console.lines(f"every change: {dst / '.himfmt' / 'fix.jsonl'}" for dst in done.logs)
    assert done.report is not None
    return 1 if failed or done.report.fails("error") else 0
