"""Helpers the tests share (not tests themselves): tree digests, a kill-and-resume run."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path


def digest(root: Path) -> dict[str, str]:
    """sha256 of every data file under ``root`` (himfmt's own records aside), by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".himfmt" not in p.parts
    }


def long_synth(hhm: Path, bg: Path, out: Path) -> subprocess.Popen:
    """``himfmt synth`` of 3,000 image_him samples on two workers, started in its own process (to stop it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "himfmt", "synth", "recipe=image_him", f"hhm={hhm}", f"bg={bg}", "n=3000", "workers=2", f"out={out}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_and_resume(args: list[str], tmp_path: Path, total: int, kill_after: int) -> None:
    """Run once whole; run again, SIGKILL it after ``kill_after`` records, rerun: same bytes."""
    cmd = [sys.executable, "-m", "himfmt", "synth", *args, "workers=1"]
    assert subprocess.run([*cmd, f"out={tmp_path / 'whole'}"], capture_output=True).returncode == 0
    out = tmp_path / "killed"
    proc = subprocess.Popen([*cmd, f"out={out}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    records = out / ".himfmt"
    deadline = time.time() + 60

    def lines() -> int:
        return sum(len(p.read_text().splitlines()) for p in records.glob("*.jsonl")) if records.is_dir() else 0

    while time.time() < deadline and lines() < kill_after:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < lines() < total, "the kill must land mid-way"
    rerun = subprocess.run([*cmd, f"out={out}"], capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert digest(out) == digest(tmp_path / "whole")
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def dataset_config(tmp_path: Path, splits: str) -> Path:
    """A dataset config file ``mine.yaml`` with root ``tmp_path/root`` and the given ``splits:`` block."""
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(f"name: mine\nroot: {tmp_path / 'root'}\nsplits:\n{splits}")
    return cfg
