"""``himfmt merge``: fold shard records (and shard reports) together, then validate the output."""

from __future__ import annotations

import os
from pathlib import Path

from himfmt.cli import console
from himfmt.cli.voice import VOICE
from himfmt.generation.merge import merge_and_validate, merge_records, merge_reports
from himfmt.options import MergeOptions

SUMMARY = "after a sharded run: fold shard records into one per job and validate root=DIR [deep=true] [report=FILE]"


def run(cfg: MergeOptions) -> int:
    root = Path(cfg.root).resolve()
    if cfg.report and merge_reports(cfg.report) is not None:
        console.out.print(f"merged shard reports into {cfg.report}")
    for folder, dirs, _ in os.walk(root):  # each output (a fill root holds several) keeps its records in .himfmt/
        if ".himfmt" in dirs and Path(folder) != root:
            for line in merge_records(Path(folder)).records:
                console.out.print(f"merged {Path(folder).relative_to(root)}/.himfmt/{line}")
        dirs[:] = [d for d in dirs if not d.startswith(".")]
    return merge_and_validate(root, cfg.deep, VOICE)
