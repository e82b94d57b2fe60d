"""The Hydra callback of sweeps: each job's log and exit code, then the merge (see :mod:`himfmt.generation.merge`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from himfmt.cli import console
from himfmt.cli.voice import VOICE
from himfmt.generation.merge import merge_after_sweep


def _sweep_codes(sweep_dir: Path) -> list[int]:
    codes = []
    for f in sorted(sweep_dir.glob("*/exit_code")):
        try:
            codes.append(int(f.read_text().strip()))
        except ValueError:
            codes.append(1)
    return codes


# Set by ShardCallback.on_multirun_end in the launching process: the sweep's exit code.
SWEEP_EXIT: list[int] = []


class ShardCallback(Callback):
    """Hydra callback: per-job log and exit code; merge and validate after a sweep over shards."""

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if _multirun():
            console.out.record = console.err.record = True

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if not _multirun():
            return
        from hydra.core.hydra_config import HydraConfig

        # The stored path, not resolved again: a literal ``${...}`` in out= (paths are literal) would otherwise
        # be taken for an interpolation here and the log written elsewhere.
        runtime = OmegaConf.to_container(HydraConfig.get().runtime, resolve=False)
        assert isinstance(runtime, dict)
        job_dir = Path(str(runtime["output_dir"]))
        from hydra.core.utils import JobStatus

        ok = job_return.status == JobStatus.COMPLETED and isinstance(job_return.return_value, int)
        code = job_return.return_value if ok else 1
        try:
            job_dir.mkdir(parents=True, exist_ok=True)
            (job_dir / "himfmt.log").write_text(console.out.export_text() + console.err.export_text())
            (job_dir / "exit_code").write_text(f"{code}\n")
        except OSError as exc:
            console.warn(f"could not keep this shard's log in {job_dir}: {exc}")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep = Path(str(config.hydra.sweep.dir))
        codes = _sweep_codes(sweep)
        code = max(codes, default=0)
        failed = [c for c in codes if c != 0]
        console.out.print(f"sweep: {len(codes)} job(s) finished, {len(failed)} with a non-zero exit; logs in {sweep}")
        if _sharded(config):
            code = max(code, merge_after_sweep(config, VOICE))
        SWEEP_EXIT.append(code)


def _multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def _sharded(config: DictConfig) -> bool:
    overrides = [str(o) for o in config.hydra.overrides.task]
    return any(o.startswith("shard.index=") for o in overrides) or int(config.get("shard", {}).get("count", 1)) > 1
