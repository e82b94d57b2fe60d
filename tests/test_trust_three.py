"""Trust III: what a second attack found (bind mounts, swapped roots, archives, forged records, bad data)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from importlib.resources import files
from pathlib import Path

import pytest

import himfmt
from himfmt.validation import validate

import trees
from helpers import long_synth


def _bind(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["mount", "--bind", str(src), str(dst)], capture_output=True).returncode != 0:
        pytest.skip("bind mounts need root and a kernel that allows them here")


def _unbind(dst: Path) -> None:
    done = subprocess.run(["umount", "--lazy", str(dst)], capture_output=True, text=True)  # the test process may hold a folder open
    assert done.returncode == 0, done.stderr


def test_a_destination_that_is_the_source_through_a_bind_mount_is_refused(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K", stems=("a", "b"))
    conv = tmp_path / "conv"
    assert run_cli("convert", f"src={src / 'I-HIM50K'}", f"dst={conv}", "to=maggie_image_val", "workers=1")[0] == 0
    before = {p: p.read_bytes() for p in conv.rglob("*") if p.is_file() and ".himfmt" not in p.parts}
    root_bind, folder_bind = tmp_path / "dst", tmp_path / "other"
    _bind(conv, root_bind)
    try:
        code, _, err = run_cli(
            "convert", f"src={conv}", f"dst={root_bind}", "to=maggie_image_val", "mode=symlink", "overwrite=true", "workers=1"
        )
        assert code == 2 and "bind mount" in err
    finally:
        _unbind(root_bind)
    # Only a folder inside the destination is the source's: each file is compared before it is replaced.
    assert run_cli("convert", f"src={conv}", f"dst={folder_bind}", "to=maggie_image_val", "workers=1")[0] == 0
    _bind(conv / "images" / "I-HIM50K", folder_bind / "images" / "I-HIM50K")
    try:
        code, _, err = run_cli(
            "convert", f"src={conv}", f"dst={folder_bind}", "to=maggie_image_val", "mode=symlink", "overwrite=true", "workers=1"
        )
        assert code == 2 and "is the source file" in err
    finally:
        _unbind(folder_bind / "images" / "I-HIM50K")
    assert {p: p.read_bytes() for p in conv.rglob("*") if p.is_file() and ".himfmt" not in p.parts} == before


@pytest.mark.slow  # reason: a synth long enough to swap its output folder for a link while it runs
def test_an_output_swapped_for_a_link_during_the_run_stops_it(inputs, tmp_path):
    hhm, bg = inputs
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = long_synth(hhm, bg, out)
    images = out / "I-HIM50K" / "images"
    deadline = time.time() + 60
    while time.time() < deadline and (not images.is_dir() or len(list(images.iterdir())) < 300):
        time.sleep(0.05)
    out.rename(tmp_path / "moved")
    out.symlink_to(elsewhere)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "the output folder was replaced during the run" in err
    assert list(elsewhere.iterdir()) == []


def _zip(root: Path, archive: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                zf.write(p, str(p.relative_to(root)))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return archive


def _tree_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".himfmt" not in p.parts)


def test_an_unpack_over_an_older_release_holds_exactly_the_new_one(run_cli, tmp_path):
    old = trees.train_tree(tmp_path / "old", stems=("a", "b", "c"))
    new = trees.train_tree(tmp_path / "new", stems=("a", "b"))
    out = tmp_path / "out"
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    assert run_cli("unpack", f"archive={_zip(old, tmp_path / 'v1' / 'ds.zip')}", f"out={out}")[0] == 0
    code, text, err = run_cli("unpack", f"archive={_zip(new, tmp_path / 'v2' / 'ds.zip')}", f"out={out}")
    assert code == 0, err
    assert "removed (an earlier unpack made it; this archive lacks it): I-HIM50K/images/c.jpg" in " ".join(text.split())
    assert _tree_files(out) == _tree_files(new)
    (out / "mine.txt").write_text("mine")
    code, _, err = run_cli("unpack", f"archive={tmp_path / 'v2' / 'ds.zip'}", f"out={out}")
    assert code == 2 and "no unpack made (e.g. mine.txt)" in err
    assert (out / "mine.txt").read_text() == "mine"


def test_an_archive_never_brings_himfmts_own_records(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", stems=("a",))
    forged = json.dumps({"archive": "other.zip", "files": []}).encode()
    archive = _zip(src, tmp_path / "ds.zip", {".himfmt/unpack.json": forged})
    out = tmp_path / "out"
    code, _, err = run_cli("unpack", f"archive={archive}", f"out={out}")
    assert code == 0 and "skipped 1 member(s) under .himfmt/" in err
    assert json.loads((out / ".himfmt" / "unpack.json").read_text())["archive"] == "ds.zip"
    assert run_cli("unpack", f"archive={archive}", f"out={out}")[0] == 0  # a rerun is a resume


def test_one_path_spelled_two_ways_is_an_unsafe_member(run_cli, tmp_path):
    archive = tmp_path / "ds.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("I-HIM50K/images/a.jpg", b"one")
        zf.writestr("./I-HIM50K//images/./a.jpg", b"two")
    found = [f for f in validate(str(archive), workers=1).findings if f.code == "archive.unsafe_member"]
    assert found and "spelled differently" in found[0].message
    code, _, err = run_cli("unpack", f"archive={archive}", f"out={tmp_path / 'out'}")
    assert code == 2 and "spelled differently" in " ".join(err.split()) and "\\x0a" not in err  # one member a line


def test_a_link_in_the_output_stops_an_unpack_before_anything_is_counted(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", stems=("a", "b"))
    archive = _zip(src, tmp_path / "ds.zip")
    out = tmp_path / "out"
    assert run_cli("unpack", f"archive={archive}", f"out={out}")[0] == 0
    outside = tmp_path / "outside"
    shutil.move(str(out / "I-HIM50K"), str(outside))
    (out / "I-HIM50K").symlink_to(outside)
    code, text, err = run_cli("unpack", f"archive={archive}", f"out={out}")
    assert code == 2 and "is a link inside the output" in err and "already there" not in text


@pytest.mark.parametrize("option", ["max_ratio=nan", "max_member_gb=nan", "max_total_gb=inf", "max_ratio=-inf"])
def test_nan_and_infinity_are_refused(run_cli, tmp_path, option):
    code, _, err = run_cli("unpack", f"archive={tmp_path / 'ds.zip'}", f"out={tmp_path / 'out'}", option)
    assert code == 2 and "must be a finite number" in err


def test_a_record_naming_files_outside_dst_is_not_trusted(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K", stems=("a", "b"))
    dst, elsewhere = tmp_path / "dst", tmp_path / "elsewhere"
    args = ["convert", f"src={src}", f"dst={dst}", "to=maggie_image_val", "workers=1"]
    assert run_cli(*args)[0] == 0
    shutil.copytree(dst, elsewhere)  # what the forged paths point at: all there, right sizes
    record = dst / ".himfmt" / "convert.jsonl"
    lines = [json.loads(ln) for ln in record.read_text().splitlines()]
    for ln in lines:
        for f in ln.get("files", []):
            f[0] = f"../elsewhere/{f[0]}"
    record.write_text("".join(json.dumps(ln) + "\n" for ln in lines))
    for p in [p for p in dst.rglob("*") if p.is_file() and ".himfmt" not in p.parts]:
        p.unlink()
    code, out, err = run_cli(*args)
    assert code == 0, err
    assert "already done" not in out
    assert _tree_files(dst) == _tree_files(elsewhere)


def test_a_file_name_that_is_not_utf8_converts_and_resumes(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K", stems=("a", "b"))
    base = os.fsencode(src / "I-HIM50K")
    os.rename(base + b"/images/a.jpg", base + b"/images/\xff\xfe.jpg")
    os.rename(base + b"/alphas/a", base + b"/alphas/\xff\xfe")
    dst = tmp_path / "dst"
    code, _, err = run_cli("convert", f"src={src}", f"dst={dst}", "to=maggie_image_val", "workers=1")
    assert code == 0, err
    assert b"\xff\xfe.jpg" in os.listdir(os.fsencode(dst / "images" / "I-HIM50K"))
    code, out, _ = run_cli("convert", f"src={src}", f"dst={dst}", "to=maggie_image_val", "workers=1")
    assert code == 0 and "already done" in out


@pytest.mark.parametrize("command", ["convert", "synth"])
def test_a_fifo_at_a_records_name_is_one_line_never_a_hang(run_cli, inputs, tmp_path, command):
    hhm, bg = inputs
    out = tmp_path / "out"
    (out / ".himfmt").mkdir(parents=True)
    if command == "convert":
        src = trees.train_tree(tmp_path / "src", "I-HIM50K", stems=("a",))
        os.mkfifo(out / ".himfmt" / "convert.jsonl")
        args = ["convert", f"src={src}", f"dst={out}", "to=maggie_image_val"]
    else:
        os.mkfifo(out / ".himfmt" / "synth-image_him-I-HIM50K-shard0of1.jsonl")
        args = ["synth", "recipe=image_him", f"hhm={hhm}", f"bg={bg}", "n=1", f"out={out}"]
    code, _, err = run_cli(*args, "workers=1")
    assert code == 2 and "must be a regular file" in err


def _zeroed_entropy(path: Path) -> None:
    """Zero a stretch of a JPEG's entropy-coded data: libjpeg decodes it with a warning, nothing fails."""
    data = bytearray(path.read_bytes())
    sos = data.find(b"\xff\xda")
    start = sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")
    data[start + 20 : len(data) - 40] = bytes(len(data) - 60 - start)
    path.write_bytes(bytes(data))


def test_corrupt_jpeg_data_is_a_finding_and_never_leaks(tmp_path):
    root = trees.train_tree(tmp_path / "t", "I-HIM50K", stems=("a", "b"))
    image = root / "I-HIM50K" / "images" / "a.jpg"
    trees.save(image, trees.smooth(3, trees.W, trees.H))
    _zeroed_entropy(image)
    done = subprocess.run([sys.executable, "-m", "himfmt", "validate", str(root), "deep=true", "workers=1"], capture_output=True, text=True)
    assert done.returncode == 1
    assert "file.corrupt" in done.stdout and "libjpeg" in " ".join(done.stdout.split())
    assert "Corrupt JPEG data" not in done.stderr
    quiet = subprocess.run([sys.executable, "-m", "himfmt", "validate", str(root), "workers=1"], capture_output=True, text=True)
    assert "Corrupt JPEG data" not in quiet.stderr


@pytest.mark.parametrize("mode", ["copy", "hardlink"])
def test_a_fifo_picture_is_named_and_fails_the_conversion(run_cli, tmp_path, mode):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K", stems=("a", "b"))
    matte = src / "I-HIM50K" / "alphas" / "a" / "01.png"
    matte.unlink()
    os.mkfifo(matte)
    code, _, err = run_cli("convert", f"src={src}", f"dst={tmp_path / 'dst'}", "to=maggie_image_val", f"mode={mode}", "workers=1")
    assert code == 1 and "01.png: not a regular file" in " ".join(err.split())


def test_a_sparse_giant_matte_is_not_copied(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K", stems=("a", "b"))
    matte = src / "I-HIM50K" / "alphas" / "a" / "00.png"
    with open(matte, "r+b") as f:
        f.truncate(8 << 30)  # a sparse 8 GB file behind a small PNG's header
    dst = tmp_path / "dst"
    code, _, err = run_cli("convert", f"src={src}", f"dst={dst}", "to=maggie_image_val", "workers=1")
    assert code == 1 and "more than the" in err and "not copied" in " ".join(err.split())
    assert sum(p.stat().st_size for p in dst.rglob("*") if p.is_file()) < 1 << 20


@pytest.mark.parametrize("kind", ["jpg", "png"])
def test_a_0x0_header_is_said_as_such(tmp_path, kind):
    root = trees.train_tree(tmp_path / "t", "I-HIM50K", stems=("a", "b"))
    path = root / "I-HIM50K" / ("images/a.jpg" if kind == "jpg" else "alphas/a/00.png")
    data = bytearray(path.read_bytes())
    if kind == "png":
        data[16:24] = bytes(8)  # IHDR width and height
    else:
        sof = next(i for i in range(2, len(data) - 1) if data[i] == 0xFF and data[i + 1] in (0xC0, 0xC2))
        data[sof + 5 : sof + 9] = bytes(4)  # frame header height and width
    path.write_bytes(bytes(data))
    messages = [f.message for f in validate(str(root), workers=1).findings]
    assert any("the header says 0x0 pixels" in m for m in messages), messages
    assert not any("decompression bomb" in m or "BufferedReader" in m for m in messages)


def test_an_unreadable_fg_video_is_named(run_cli, tmp_path):
    src = trees.dvm_source_tree(tmp_path / "src", n_frames=8)
    f = src / "fg" / "video" / "test" / "0000" / "f.mp4"
    f.write_bytes(f.read_bytes()[:300])
    code, _, err = run_cli("synth", "recipe=dvm", f"source={src}", "phase=test", f"out={tmp_path / 'out'}", "workers=1")
    assert code == 1 and "0000/f.mp4: not a readable video" in " ".join(err.split())
    assert "the fg has no alpha" not in err


# A command that needs a dataset and finds none could not run (2); a check that finds none reports it (1).
NO_DATASET = {"detect": 1, "validate": 1, "merge": 1, "stats": 2, "preview": 2, "masks": 2, "convert": 2, "synth": 2}


@pytest.mark.parametrize("command", sorted(NO_DATASET))
def test_no_dataset_found_has_one_exit_code_rule(run_cli, tmp_path, command):
    empty = tmp_path / "empty"
    empty.mkdir()
    args = {
        "convert": [f"src={empty}", f"dst={tmp_path / 'dst'}", "to=maggie_image_val"],
        "synth": ["recipe=image_him", f"hhm={empty}", f"bg={empty}", "n=1", f"out={tmp_path / 'out'}"],
        "masks": [f"root={empty}", "source=m"],
        "preview": [f"root={empty}", f"out={tmp_path / 'p.png'}"],
    }.get(command, [f"root={empty}"])
    code, out, err = run_cli(
        command,
        *args,
        "workers=1"
        if command in ("convert", "synth", "masks", "validate")
        else "n=1"
        if command in ("stats", "preview")
        else "deep=false"
        if command == "merge"
        else "output=text",
    )
    assert code == NO_DATASET[command], out + err
    assert "Traceback" not in err


@pytest.mark.parametrize("megabytes", [300, 500])
def test_a_memory_limit_is_one_line_never_a_traceback(demo_root, megabytes):
    import resource

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))

    done = subprocess.run(
        [sys.executable, "-m", "himfmt", "validate", str(demo_root), "deep=true"],
        capture_output=True,
        text=True,
        preexec_fn=cap,
        timeout=120,
    )
    assert done.returncode == 2 and "out of memory" in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr


def test_a_report_being_written_survives_a_resume_in_the_same_output(tmp_path):
    from himfmt.io.files import OutDir, remove_tmp_files

    dst = tmp_path / "dst"
    report = OutDir.at(dst, register=False).open_pending("report.json")  # a report under way, no writer file
    report.file.write(b"{}")
    (dst / ".hf-0123456789-1.tmp").write_bytes(b"left by a killed writer")
    assert remove_tmp_files(dst) == 1  # what a resume of another job in dst does first
    report.commit()
    assert (dst / "report.json").read_bytes() == b"{}"
    assert sorted(p.name for p in dst.iterdir()) == ["report.json"]


def test_an_unreadable_alpha_folder_skips_its_sample_whole():
    """As a user who cannot read one sample's alpha folder (root reads everything: the run drops to nobody)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root to run the command as another user")
    work = Path(tempfile.mkdtemp(prefix="himfmt-nobody-"))  # pytest's own folder is closed to other users
    try:
        _unreadable_alpha(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _unreadable_alpha(work: Path) -> None:
    src = trees.train_tree(work / "src", "I-HIM50K", stems=("a", "b"))
    for p in [work, *work.rglob("*")]:
        p.chmod(0o777 if p.is_dir() else 0o666)
    (src / "I-HIM50K" / "alphas" / "a").chmod(0)
    # The checkout may sit in a folder only root reads (CI's does): nobody imports a copy of the package.
    shutil.copytree(Path(himfmt.__file__).parent, work / "lib" / "himfmt")
    for data in ("conf", "schemas"):  # shipped inside the package, kept at the top of the checkout
        shutil.copytree(str(files(f"himfmt.{data}")), work / "lib" / "himfmt" / data, dirs_exist_ok=True)
    for p in (work / "lib").rglob("*"):
        p.chmod(0o777 if p.is_dir() else 0o666)
    (work / "lib").chmod(0o777)
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", f"PYTHONPATH={work / 'lib'}", sys.executable]
    probe = subprocess.run([*as_nobody, "-c", "import himfmt.cli.main"], capture_output=True, text=True, cwd=work)
    if probe.returncode != 0:  # e.g. the interpreter itself lives under a folder only root reads
        pytest.skip(f"nobody cannot run this Python with himfmt: {probe.stderr.strip()[-200:]}")
    as_nobody.extend(["-m", "himfmt"])
    found = subprocess.run([*as_nobody, "validate", str(src)], capture_output=True, text=True, cwd=work)
    assert found.returncode == 1 and "file.unreadable" in found.stdout, found.stderr[-2000:]
    done = subprocess.run(
        [*as_nobody, "convert", f"src={src}", f"dst={work / 'dst'}", "to=maggie_image_val"], capture_output=True, text=True, cwd=work
    )
    assert done.returncode == 1 and "sample I-HIM50K/a skipped whole" in " ".join(done.stderr.split())
    assert sorted(p.name for p in (work / "dst" / "images" / "I-HIM50K").iterdir()) == ["b.jpg"]


def test_a_record_larger_than_any_job_writes_is_one_line(run_cli, tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K", stems=("a",))
    dst = tmp_path / "dst"
    (dst / ".himfmt").mkdir(parents=True)
    with open(dst / ".himfmt" / "convert.jsonl", "wb") as f:
        f.truncate(3 << 30)  # sparse: 3 GB that a reader would hold whole
    code, _, err = run_cli("convert", f"src={src}", f"dst={dst}", "to=maggie_image_val", "workers=1")
    assert code == 2 and "record is damaged" in err


def test_an_unknown_command_prints_its_usage_as_lines(run_cli):
    code, _, err = run_cli("foo")
    assert code == 2 and "\\x0a" not in err and "unknown command 'foo'" in err.splitlines()[0]
    assert any(line.startswith("usage: himfmt <command>") for line in err.splitlines())
