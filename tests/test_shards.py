"""Sharded runs on Hydra launchers: shards add up to the unsharded run, wherever they run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import trees
from helpers import digest

SHARDS = ["-m", "shard.index=range(0,2)", "shard.count=2"]


def synth_args(hhm: Path, bg: Path, out: Path, n: int = 8) -> list[str]:
    return [f"hhm={hhm}", f"bg={bg}", f"out={out}", f"n={n}", "workers=1"]


def sweep_jobs(out: Path) -> list[Path]:
    return sorted((out / ".himfmt" / "sweeps").glob("*/*-shard*of2"))


JOBLIB = pytest.mark.needs("hydra_plugins.hydra_joblib_launcher")
SUBMITIT = pytest.mark.needs("hydra_plugins.hydra_submitit_launcher")


@pytest.mark.parametrize("launcher", ["basic", pytest.param("joblib", marks=JOBLIB), pytest.param("submitit_local", marks=SUBMITIT)])
def test_shards_on_a_launcher_equal_one_run(run_cli, inputs, tmp_path, launcher):
    hhm, bg = inputs
    assert run_cli("synth", *synth_args(hhm, bg, tmp_path / "whole"))[0] == 0
    code, out, err = run_cli("synth", *SHARDS, *synth_args(hhm, bg, tmp_path / "sharded"), f"hydra/launcher={launcher}")
    assert code == 0, err
    assert digest(tmp_path / "sharded") == digest(tmp_path / "whole")
    # Each shard's log and exit code sit next to the output; the records were merged, the output validated.
    jobs = sweep_jobs(tmp_path / "sharded")
    assert [j.name.split("-", 1)[1] for j in jobs] == ["shard0of2", "shard1of2"]
    assert all((j / "exit_code").read_text().strip() == "0" and "image_him" in (j / "himfmt.log").read_text() for j in jobs)
    records = sorted(p.name for p in (tmp_path / "sharded" / ".himfmt").glob("*.jsonl"))
    assert records == ["synth-image_him-I-HIM50K-shard0of1.jsonl"]
    assert "All clean" in out and "sweep: 2 job(s) finished, 0 with a non-zero exit" in out


@pytest.mark.slow  # about 15 s: starting a local Ray cluster is most of it, and only a real one shows Ray's launcher works
@pytest.mark.needs("hydra_plugins.hydra_ray_launcher")
def test_shards_on_a_local_ray_cluster(inputs, tmp_path):
    hhm, bg = inputs
    cmd = [sys.executable, "-m", "himfmt", "synth"]
    assert subprocess.run([*cmd, *synth_args(hhm, bg, tmp_path / "whole")], capture_output=True).returncode == 0
    ray = subprocess.run(
        [
            *cmd,
            *SHARDS,
            *synth_args(hhm, bg, tmp_path / "ray"),
            "hydra/launcher=ray",
            "+hydra.launcher.ray.init.num_cpus=2",
            "+hydra.launcher.ray.init.include_dashboard=false",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert ray.returncode == 0, ray.stderr[-3000:]
    assert digest(tmp_path / "ray") == digest(tmp_path / "whole")
    assert not (tmp_path / "multirun").exists()


@JOBLIB
def test_convert_and_deep_validate_in_shards(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", stems=("a", "b", "c", "d", "e", "f", "g"))
    assert run_cli("convert", str(src), f"dst={tmp_path / 'whole'}", "to=maggie_image_val")[0] == 0
    code, _, err = run_cli("convert", str(src), *SHARDS, f"dst={tmp_path / 'sharded'}", "to=maggie_image_val", "hydra/launcher=joblib")
    assert code == 0, err
    assert digest(tmp_path / "sharded") == digest(tmp_path / "whole")
    assert [p.name for p in (tmp_path / "sharded" / ".himfmt").glob("*.jsonl")] == ["convert.jsonl"]
    # A corrupt file: the shards' reports fold into the unsharded report.
    bad = next((tmp_path / "whole").rglob("*.png"))
    bad.write_bytes(b"garbage")
    run_cli("validate", str(tmp_path / "whole"), "deep=true", "workers=1", f"report={tmp_path / 'one.json'}")
    code, out, _ = run_cli("validate", str(tmp_path / "whole"), *SHARDS, "deep=true", "workers=1", f"report={tmp_path / 'two.json'}")
    assert code == 1 and "merged report" in out
    one, two = (json.loads((tmp_path / f).read_text()) for f in ("one.json", "two.json"))
    assert [d["summary"] for d in one["datasets"]] == [d["summary"] for d in two["datasets"]]
    key = lambda d: sorted((f["code"], f["path"]) for x in d["datasets"] for f in x["findings"])  # noqa: E731
    assert key(one) == key(two) and key(one)
    assert not list(tmp_path.glob("two.shard*"))


def test_failed_shard_fails_the_sweep(run_cli, inputs, tmp_path):
    hhm, bg = inputs
    code, out, _ = run_cli("synth", "-m", "shard.index=0,5", "shard.count=2", *synth_args(hhm, bg, tmp_path / "o"))
    assert code == 2 and "1 with a non-zero exit" in out


def test_killed_shard_resubmitted_completes_only_its_missing_samples(inputs, tmp_path):
    import signal
    import time

    hhm, bg = inputs
    cmd = [sys.executable, "-m", "himfmt", "synth", *synth_args(hhm, bg, tmp_path / "o", n=300)]
    assert (
        subprocess.run(
            [sys.executable, "-m", "himfmt", "synth", *synth_args(hhm, bg, tmp_path / "whole", n=300)], capture_output=True
        ).returncode
        == 0
    )
    shard0 = [*cmd, "shard.index=0", "shard.count=2"]
    proc = subprocess.Popen(shard0, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    record = tmp_path / "o" / ".himfmt" / "synth-image_him-I-HIM50K-shard0of2.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not record.exists() or len(record.read_text().splitlines()) < 15):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = sum('"id"' in ln for ln in record.read_text().splitlines())  # the job and plan lines aside
    assert 0 < done < 150
    again = subprocess.run(shard0, capture_output=True, text=True)
    assert again.returncode == 0
    written = int(re.search(r"written\s*│\s*(\d+)", again.stdout).group(1))
    before = int(re.search(r"done before\s*│\s*(\d+)", again.stdout).group(1))
    assert before >= done - 1 and written + before == 150
    assert subprocess.run([*cmd, "shard.index=1", "shard.count=2"], capture_output=True).returncode == 0
    assert digest(tmp_path / "o") == digest(tmp_path / "whole")


def test_fill_in_shards_goes_in_waves(run_cli, inputs, tmp_path):
    hhm, bg = inputs
    cfg = tmp_path / "ds.yaml"
    cfg.write_text(f"""name: waves
root: ROOT
splits:
  train:
    layout: maggie_image_train
    path: data
    samples: 6
    from: {{recipe: image_him, inputs: {{hhm: {hhm}, bg: {bg}}}}}
  val:
    layout: maggie_image_val
    path: val
    split: train
    samples: 6
    from: {{convert: train, mode: hardlink}}
    masks: {{masks_a: detector}}
""")
    whole, sharded = tmp_path / "whole", tmp_path / "sharded"
    code, _, err = run_cli("fill", f"dataset={cfg}", f"out={whole}", "workers=1")
    assert code == 0, err
    code, out, _ = run_cli("fill", *SHARDS, f"dataset={cfg}", f"out={sharded}", "workers=1")
    said = " ".join(out.split())  # lines are broken to fit the terminal (80 columns under xdist)
    assert code == 1 and "waits: val reads train" in said and "run the same sweep again" in said
    code, out, _ = run_cli("fill", *SHARDS, f"dataset={cfg}", f"out={sharded}", "workers=1")
    assert code == 1 and "masks and trimaps in the next sweep" in out  # val converted, in shards
    code, out, _ = run_cli("fill", *SHARDS, f"dataset={cfg}", f"out={sharded}", "workers=1")
    assert code == 0 and "nothing to do" in out  # val's masks, in shards
    assert digest(sharded) == digest(whole)


def test_masks_in_shards_equal_one_run(run_cli, tmp_path):
    one = trees.val_tree(tmp_path / "one", masks=())
    two = trees.val_tree(tmp_path / "two", masks=())
    assert run_cli("masks", str(one), "source=m", "workers=1")[0] == 0
    assert run_cli("masks", str(two), *SHARDS, "source=m", "workers=1")[0] == 0
    assert digest(one) == digest(two)


@SUBMITIT
def test_slurm_launcher_composes(run_cli):
    """No cluster here: the SLURM path is exercised by submitit_local above; its config must compose."""
    code, out, _ = run_cli(
        "synth",
        "out=x",
        "hhm=a",
        "bg=b",
        "hydra/launcher=submitit_slurm",
        "hydra.launcher.partition=gpu",
        "hydra.launcher.cpus_per_task=8",
        "--cfg",
        "hydra",
    )
    assert code == 0 and "SlurmLauncher" in out and "partition: gpu" in out
    assert "submitit_folder: ${hydra.sweep.dir}/.submitit/%j" in out and "${out}/.himfmt/sweeps/" in out
