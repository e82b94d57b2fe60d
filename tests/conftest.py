from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def run_cli(capsys, monkeypatch, tmp_path):
    """Run ``himfmt`` in-process from an empty working directory; returns (code, stdout, stderr)."""
    from himfmt.cli import main

    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exc:
            main(list(args))
        out, err = capsys.readouterr()
        leftovers = sorted(p.name for p in work.iterdir())
        assert leftovers == [], f"the command left files in the working directory: {leftovers}"
        return int(exc.value.code or 0), out, err

    return run
