"""What a user sees: command list, help, exit codes, one-line errors, no litter."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from himfmt.layouts import LAYOUTS

import trees


def test_bare_himfmt_lists_commands(run_cli):
    code, out, _ = run_cli()
    assert code == 0
    for cmd in ("layouts", "detect", "demo"):
        assert f"\n  {cmd}" in out


def test_unknown_command(run_cli):
    code, _, err = run_cli("frobnicate")
    assert code == 2 and "unknown command 'frobnicate'" in err


def test_layouts_lists_every_layout(run_cli):
    code, out, _ = run_cli("layouts")
    assert code == 0
    for name in LAYOUTS:
        assert name in out


def test_detect_help_has_examples(run_cli):
    code, out, _ = run_cli("detect", "--help")
    assert code == 0 and "Examples:" in out and "himfmt detect data/" in out


def test_detect_json_on_data_root(run_cli, tmp_path):
    data = tmp_path / "data"
    trees.train_tree(data, "I-HIM50K")
    trees.video_tree(data / "V-HIM60", "comp_easy", masks=("xmem",))
    code, out, _ = run_cli("detect", f"root={tmp_path}", "output=json")
    assert code == 0
    doc = json.loads(out)
    got = {(d["layout"], d["path"]) for d in doc["datasets"]}
    assert got == {("maggie_image_train", "data"), ("maggie_video", "data/V-HIM60")}
    vid = next(d for d in doc["datasets"] if d["layout"] == "maggie_video")
    assert vid["splits"] == ["comp_easy"] and vid["instances"] == 2 and vid["mask_dirs"] == ["xmem"]


def test_bare_path_with_spaces_and_brackets(run_cli, tmp_path):
    root = tmp_path / "my data (v1)"
    trees.hhm_tree(root)
    code, out, _ = run_cli("detect", str(root), "output=json")
    assert code == 0 and json.loads(out)["datasets"][0]["layout"] == "hhm"


def test_missing_root_is_one_line_exit_2(run_cli, tmp_path):
    code, out, err = run_cli("detect", f"root={tmp_path / 'nope'}")
    assert code == 2
    assert "nope: no such file or directory" in err and "Traceback" not in err + out


@pytest.mark.parametrize("command, key", [("validate", "root"), ("detect", "root"), ("synth", "out"), ("convert", "src")])
def test_argument_not_given_is_one_line_exit_2(run_cli, command, key):
    code, out, err = run_cli(command)
    assert code == 2 and f"{key}= is required" in err and "Traceback" not in err + out


def test_file_as_root(run_cli, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    code, _, err = run_cli("detect", str(f))
    assert code == 2 and "not a directory" in err


def test_unknown_layout(run_cli, tmp_path):
    code, _, err = run_cli("detect", str(tmp_path), "layout=nope")
    assert code == 2 and "layout=nope is not a layout" in err


def test_bad_override_is_exit_2(run_cli, tmp_path):
    code, _, _ = run_cli("detect", str(tmp_path), "colour=blue")
    assert code == 2


def test_escaping_symlink_named(run_cli, tmp_path):
    root = trees.train_tree(tmp_path / "root", "s")
    os.symlink("/etc", root / "s" / "alphas" / "etc")
    code, _, err = run_cli("detect", str(root))
    assert code == 2 and "s/alphas/etc: symlink to a folder outside the root" in err


def test_nothing_found_explains(run_cli, tmp_path):
    trees.save(tmp_path / "images" / "a.jpg", trees.rgb())
    (tmp_path / "alphas").mkdir()
    code, _, err = run_cli("detect", str(tmp_path))
    assert code == 1 and "closest" in err and "maggie_image_train" in err


def test_console_script_subprocess(tmp_path):
    """The installed entry point itself, in a real process, from another directory."""
    trees.bg_tree(tmp_path / "bg")
    proc = subprocess.run(
        [sys.executable, "-m", "himfmt", "detect", str(tmp_path), "output=json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["datasets"][0]["layout"] == "bg_images"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bg"]


def test_validate_exit_codes_and_reports(run_cli, tmp_path):
    root = trees.train_tree(tmp_path / "data", "s", stems=tuple(f"img{i}" for i in range(8)))
    code, out, _ = run_cli("validate", str(root))
    assert code == 0 and "All clean" in out
    for i in range(8):  # one repeated problem: grouped, first paths shown, a count
        (root / f"s/alphas/img{i}/.DS_Store").write_bytes(b"x")
    (root / "s/alphas/img0/00.png").write_bytes(b"junk")
    report, page = tmp_path / "r.json", tmp_path / "r.html"
    code, out, _ = run_cli("validate", str(root), f"report={report}", f"html={page}")
    assert code == 1
    assert "files.stray: 8 findings in the root dataset" in out and "... and 3 more" in out
    assert "file.corrupt: 1 finding in the root dataset" in out and "9 errors, 0 warnings" in out
    stray = " ".join(out.split("files.stray", 1)[1].split("file.corrupt")[0].split())
    assert "fix: Delete the stray file." in stray
    assert "himfmt explain CODE" in out
    doc = json.loads(report.read_text())
    ds = doc["datasets"][0]
    assert doc["root"] == str(root) and ds["layout"] == "maggie_image_train" and ds["splits"] == ["s"]
    assert ds["summary"] == {"samples": 8, "files": 24, "errors": 9, "warnings": 0, "infos": 0}
    f = next(f for f in ds["findings"] if f["code"] == "file.corrupt")
    assert f == {"code": "file.corrupt", "severity": "error", "path": "s/alphas/img0/00.png", "sample": "img0", "message": f["message"]}
    html = page.read_text()
    assert html.startswith("<!doctype html>") and "s/alphas/img7/.DS_Store" in html


def test_validate_fail_on_warning(run_cli, tmp_path):
    root = trees.video_tree(tmp_path, "s", n_frames=4)  # too short: a warning
    assert run_cli("validate", str(root))[0] == 0
    code, out, _ = run_cli("validate", str(root), "fail_on=warning")
    assert code == 1 and "video.too_short" in out


def test_validate_nothing_found_and_bad_args(run_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    code, out, _ = run_cli("validate", str(tmp_path / "empty"))
    assert code == 1 and "dataset.none_found" in out
    assert run_cli("validate", str(tmp_path / "missing"))[0] == 2
    assert run_cli("validate", str(tmp_path / "empty"), "layout=nope")[0] == 2
    assert run_cli("validate", str(tmp_path / "empty"), "fail_on=sometimes")[0] == 2


def test_commands_in_one_process_compose_the_same_config_every_time(run_cli, tmp_path):
    """What one command's config went through never shows in the next one's (a library caller or a test
    runs many in one process)."""
    from himfmt.composition import compose_config

    args = ("synth", "recipe=dvm", f"out={tmp_path / 'o'}", f"source={tmp_path}", "--cfg", "job")
    first = run_cli(*args)
    changed = compose_config("synth", ["recipe=dvm", "recipe.jpeg_quality=50"])
    changed.recipe.image_frames = 7  # an edit of one composed config...
    again = compose_config("synth", ["recipe=dvm"])
    assert again.recipe.jpeg_quality == 95 and again.recipe.image_frames == 60  # ...is not the next one's
    assert run_cli(*args) == first and first[0] == 0 and "jpeg_quality: 95" in first[1]
