"""What a user sees where researchers run himfmt: an 80-column terminal, a job log, findings that explain
themselves, every lossy step named with its count."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version

import numpy as np
import pytest
from PIL import Image

from himfmt.cli import console
from himfmt.cli.commands import COMMANDS
from himfmt.conversion.job import Job, convert
from himfmt.layouts import LAYOUTS
from himfmt.layouts.writer import write_samples
from himfmt.validation.catalog import catalog

import trees

# The names each command's output must hold whole at 80 columns: layouts, the demo's splits and paths, codes.
SPLITS = ["I-HIM50K", "V-HIM2K5", "people_walk", "comp_easy", "comp_medium", "comp_hard", "I-HIM50K_as_val"]
PATHS = ["data/HIM2K_M-HIM2K", "converted/I-HIM50K_as_val", "sources/VideoMatte", "data/V-HIM60", "data/DVM_composed"]


@pytest.fixture
def at_80(monkeypatch):
    """The consoles as an 80-column terminal would have them."""
    monkeypatch.setattr(console.out, "width", 80)
    monkeypatch.setattr(console.err, "width", 80)


@pytest.mark.parametrize(
    "args, names",
    [
        (("layouts",), list(LAYOUTS)),
        (("detect", "{demo}"), [*LAYOUTS, *PATHS, "masks_matched_r50_fpn_3x"]),
        (("validate", "{demo}"), [*LAYOUTS, *PATHS]),
        (("fill", "dataset=demo", "out={demo}", "dry_run=true"), ["maggie_image_train", *SPLITS]),
        (("explain",), list(catalog())),
        (("stats", "{demo}/data/V-HIM60"), ["comp_easy", "comp_medium", "comp_hard"]),
        (("convert", "{demo}/data/V-HIM60", "dst={tmp}/out", "to=dvm_composed", "dry_run=true"), ["maggie_video", "dvm_composed"]),
    ],
)
def test_tables_fit_80_columns_without_cutting_a_name(run_cli, at_80, demo_root, tmp_path, args, names):
    code, out, err = run_cli(*(a.format(demo=demo_root, tmp=tmp_path) for a in args))
    assert code in (0, 1), err
    table_lines = [ln for ln in out.splitlines() if ln[:1] in "┏┃┡│└"]
    assert all(len(ln) <= 80 for ln in table_lines), max(table_lines, key=len)
    # Every other line too, but for one that holds this run's temporary path (a path is never cut).
    assert [ln for ln in out.splitlines() if len(ln) > 80 and str(tmp_path.parent) not in ln and str(demo_root) not in ln] == []
    assert [n for n in names if n not in out] == []


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_fits_80_columns(run_cli, at_80, command):
    """The command list and every command's --help, examples included (a long one goes on after a backslash)."""
    code, out, _ = run_cli(*([command, "--help"] if command else []))
    assert code == 0 and "himfmt" in out
    assert [ln for ln in out.splitlines() if len(ln) > 80] == []


def test_a_table_too_wide_for_the_terminal_becomes_records(run_cli, at_80, demo_root):
    code, out, _ = run_cli("fill", "dataset=demo", f"out={demo_root}", "dry_run=true")
    plan = out.split("himfmt fill demo", 1)[1].split("nothing to do", 1)[0]
    assert code == 0 and "\nI-HIM50K_as_val: layout maggie_image_val; where converted/I-HIM50K_as_val;\n    from " in plan
    assert "┃" not in plan
    # A record goes on between fields, indented, and never past the 80 columns; no field is cut.
    assert all(len(line) <= 80 for line in out.splitlines() if str(demo_root) not in line)  # a path is never cut
    assert "; state complete; action keep\n" in plan
    assert all(line.startswith("    ") or ": layout " in line for line in plan.strip().splitlines()[1:])


def test_output_that_is_not_a_terminal_is_columns_or_wide(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    piped = subprocess.run([sys.executable, "-m", "himfmt", "layouts"], capture_output=True, text=True, env=env)
    widths = [len(ln) for ln in piped.stdout.splitlines() if ln[:1] in "┏┃│└"]
    assert piped.returncode == 0 and 80 < max(widths) <= console.LOG_WIDTH  # a log is not cut to 80 columns
    narrow = subprocess.run([sys.executable, "-m", "himfmt", "layouts"], capture_output=True, text=True, env={**env, "COLUMNS": "80"})
    assert max(len(ln) for ln in narrow.stdout.splitlines() if ln[:1] in "┏┃│└") <= 80


def test_a_log_gets_progress_lines(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HIMFMT_PROGRESS_SECONDS", "0")
    src = trees.train_tree(tmp_path / "src", "s", stems=("a", "b", "c"))
    code, _, err = run_cli("convert", str(src), f"dst={tmp_path / 'out'}", "to=maggie_image_val", "workers=1")
    assert code == 0
    lines = [ln for ln in err.splitlines() if ln.startswith("convert to maggie_image_val: ")]
    assert [ln.split(": ", 1)[1].split(" ", 1)[0] for ln in lines] == ["1/3", "2/3", "3/3"]
    assert "(100%)" in lines[-1] and "/s" in lines[-1]


def test_explain_one_code_all_codes_and_a_typo(run_cli):
    code, out, _ = run_cli("explain", "matte.sum_exceeds")
    info = catalog()["matte.sum_exceeds"]
    assert code == 0 and all(info[k] in out for k in ("meaning", "breaks", "fix")) and "deep pass only" in out
    code, out, _ = run_cli("explain")
    assert code == 0 and all(c in out for c in catalog())
    code, _, err = run_cli("explain", "matte.sum_exeeds")
    assert code == 2 and "did you mean matte.sum_exceeds" in err


def test_findings_say_how_to_fix_them(run_cli, at_80, tmp_path):
    root = trees.train_tree(tmp_path / "data", "s", stems=("a", "b"))
    (root / "s/alphas/a/.DS_Store").write_bytes(b"x")
    (root / "s/images/b.jpg").write_bytes(b"not a picture at all")
    code, out, _ = run_cli("validate", str(root))
    said = " ".join(out.split())  # read as words: at 80 columns an explanation goes on, indented, below
    assert code == 1 and f"fix: {catalog()['files.stray']['fix']}" in said and "2 errors, 0 warnings" in said
    assert f"fix: {catalog()['file.corrupt']['fix']}" in said and "s/images/b.jpg: " in out
    assert [ln for ln in out.splitlines() if len(ln) > 80 and str(tmp_path) not in ln] == []
    assert "\n    " in out.split("fix: ", 1)[0]  # the first finding's explanation went on below, indented


def changes(root, to: str, **kw) -> list[str]:
    return convert(Job(str(root), str(root.parent / f"out-{to}"), to, workers=1, **kw), dry_run=True).changes


def test_png_images_to_a_jpeg_layout_say_they_are_reencoded(tmp_path):
    root = tmp_path / "hhm"
    for i in range(3):
        trees.save(root / "images" / f"p{i}.png", trees.rgb(i))
        trees.save(root / "alphas" / f"p{i}.png", trees.matte(i))
    assert "3 pictures encoded as JPEG (lossy): 3 colour, 0 grey (mattes, masks, trimaps)" in changes(root, "maggie_image_train")


def test_dvm_composed_trimaps_and_jpeg_alpha_are_counted_and_a_png_alpha_is_not_blamed(tmp_path):
    samples = trees.composed_samples(4)
    for s in samples:
        for f in s.frames:
            f.trimap = f.instances[0].matte
    write_samples("dvm_composed", samples, tmp_path / "jpeg")
    got = changes(tmp_path / "jpeg", "maggie_video")
    assert "8 trimaps not written: maggie_video has no place for them" in got
    assert "8 mattes come from DVM's JPEG alpha a/ (noisy near 0 and 255): there is no lossless a_png/ copy" in got
    from himfmt.layouts import WriteOptions
    from himfmt.layouts.writer import write_dataset
    from himfmt.model import Dataset

    ds = Dataset("dvm_composed", None, "", {"all": "all"}, samples=samples, kind="video")  # type: ignore[arg-type]
    write_dataset(ds, "dvm_composed", tmp_path / "png", WriteOptions(png_alpha=True))
    assert not any("JPEG alpha" in line for line in changes(tmp_path / "png", "maggie_video"))


def test_maggie_video_to_dvm_composed_says_what_it_cannot_write(tmp_path):
    src = trees.video_tree(tmp_path / "src", "s", n_frames=8, masks=("xmem",))
    got = changes(src, "dvm_composed")
    assert "dvm_composed's foreground and background layers are not written: the source has none" in got
    assert "16 guidance masks not written: dvm_composed has no place for them" in got
    assert any(line.startswith("instance identity lost") and line.endswith("(1 sample)") for line in got)


@pytest.mark.parametrize("src", sorted(LAYOUTS))
def test_every_route_lists_each_change_once(tmp_path, src):
    root = trees.example(src, tmp_path / "src")
    for dst in LAYOUTS:
        try:
            got = changes(root, dst)
        except Exception as exc:  # a refused route says why instead
            assert "cannot convert" in str(exc)
            continue
        assert len(got) == len(set(got)), (src, dst, got)
        assert dst != src or got == []


def test_synth_needs_a_count_and_names_the_published_one(run_cli, tmp_path):
    code, _, err = run_cli("synth", "recipe=image_him", f"out={tmp_path / 'o'}", "hhm=x", "bg=y")
    assert code == 2 and "n= is required: how many samples to make (recipe image_him's published run made 50,000: n=50000)" in err


def test_a_16_bit_matte_is_drawn_red_in_its_finding_picture(tmp_path):
    from himfmt.inspection.preview import problem_picture
    from himfmt.layouts.detect import open_datasets

    root = trees.train_tree(tmp_path / "data", "s", stems=("a",))
    Image.fromarray(trees.matte(0).astype(np.uint16) * 257).save(root / "s/alphas/a/00.png")
    pic = problem_picture(open_datasets(str(root))[0].samples[0], "s/alphas/a/00.png")
    assert int((pic[:, :, 0].astype(int) - pic[:, :, 1]).max()) > 150


def test_the_html_report_says_version_date_and_pass(run_cli, tmp_path):
    root = trees.train_tree(tmp_path / "data", "s", stems=("a",))
    run_cli("validate", str(root), f"html={tmp_path / 'r.html'}")
    page = (tmp_path / "r.html").read_text()
    assert f"himfmt {version('himfmt')}" in page and " UTC" in page and "structure pass only" in page


def test_preview_of_an_unknown_split_lists_the_splits(run_cli, tmp_path):
    root = trees.train_tree(tmp_path / "data", "s", stems=("a",))
    code, _, err = run_cli("preview", str(root), "split=typo", f"out={tmp_path / 'p.png'}")
    assert code == 2 and "no sample matches split=typo; its splits: s" in err


def test_convert_help_lists_the_layouts(run_cli):
    code, out, _ = run_cli("convert", "--help")
    assert code == 0 and all(f"  {name}: " in out for name in LAYOUTS)


def test_a_closed_pipe_is_no_traceback(tmp_path):
    p = subprocess.run(f"{sys.executable} -m himfmt explain | head -1", shell=True, capture_output=True, text=True)
    assert p.stderr == "" and p.stdout.strip()


def test_the_docs_document_every_code_and_point_nowhere_outside():
    from pathlib import Path

    root = Path(__file__).parents[1]
    findings = (root / "docs/findings.md").read_text()
    assert [c for c in catalog() if f"`{c}`" not in findings] == []
    made = subprocess.run([sys.executable, str(root / "docs" / "make_findings.py")], capture_output=True, text=True, check=True)
    assert findings == made.stdout, "docs/findings.md is generated: python docs/make_findings.py > docs/findings.md"
    for path in [root / "README.md", *(root / "docs").glob("*.md"), *(root / "himfmt").rglob("*.py"), *(root / "conf").rglob("*.yaml")]:
        text = path.read_text()
        outside = ["../" + "shared", "ALGORITHMS" + ".md", "PERF" + ".md", "DESIGN" + ".md"]  # built: no line names them
        assert [name for name in outside if name in text] == [], path


def test_what_a_job_says_is_broken_between_words_at_80_columns(at_80, capsys):
    """The core's lines (fill's `read bg=...: 6 still(s), 0 frame sequence(s), 0 video(s)`) fit the terminal;
    a path longer than a line stays whole on its own line."""
    from himfmt.cli.voice import VOICE

    path = "/tmp/" + "deep/" * 12 + "BG-20K/train"
    VOICE.say(f"  read bg={path}: 6 still(s), 0 frame sequence(s), 0 video(s)")
    VOICE.say("  " + "word " * 40)
    out = capsys.readouterr().out
    assert [ln for ln in out.splitlines() if len(ln) > 80 and path not in ln] == []
    assert " ".join(out.split()) == f"read bg={path}: 6 still(s), 0 frame sequence(s), 0 video(s) " + ("word " * 40).strip()
