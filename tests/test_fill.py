"""`himfmt fill`: declared splits made when missing, repaired when broken, kept when complete."""

from __future__ import annotations

import shutil
from pathlib import Path

from himfmt.validation import validate

import trees


def files(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every data file (records aside) with its modification time and bytes."""
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".himfmt" not in p.parts
    }


def copy(root: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "demo"
    shutil.copytree(root, dst, symlinks=True)
    return dst


def test_fill_builds_every_split_then_has_nothing_to_do(run_cli, demo_root):
    assert validate(str(demo_root), deep_pass=True, workers=1).findings == []
    for split in (
        "sources/HHM/train",
        "data/I-HIM50K",
        "data/HIM2K_M-HIM2K/masks_matched_r50_fpn_3x/natural",
        "data/V-HIM60/comp_hard/xmem",
        "data/DVM_composed/t",
        "converted/I-HIM50K_as_val/images/I-HIM50K",
    ):
        assert (demo_root / split).is_dir(), split
    before = files(demo_root)
    code, out, _ = run_cli("fill", "dataset=demo", f"out={demo_root}", "workers=1")
    assert code == 0 and "nothing to do: all 14 splits are complete" in out
    assert files(demo_root) == before


def test_deleted_split_is_rebuilt_and_nothing_else(run_cli, demo_root, tmp_path):
    root = copy(demo_root, tmp_path)
    before = files(root)
    shutil.rmtree(root / "data" / "V-HIM60" / "comp_hard")
    code, out, err = run_cli("fill", "dataset=demo", f"out={root}", "workers=1")
    assert code == 0, err
    assert "synthesize: comp_hard" in out and out.count("synthesize:") == 1
    after = files(root)
    assert after.keys() == before.keys()
    for rel, (mtime, data) in before.items():
        assert after[rel][1] == data, rel  # the same bytes (deterministic)
        if "comp_hard" not in rel:
            assert after[rel][0] == mtime, rel  # untouched


def test_corrupted_file_is_found_and_repaired(run_cli, demo_root, tmp_path):
    root = copy(demo_root, tmp_path)
    before = files(root)
    bad = root / "data" / "I-HIM50K" / "alphas" / "00003" / "00.png"
    bad.write_bytes(b"not a png at all")
    code, out, err = run_cli("fill", "dataset=demo", f"out={root}", "workers=1")
    assert code == 0, err
    # The converted split hard-links that matte: the write went into both, and both are made again.
    assert "repair (synthesize): I-HIM50K" in out and "repair (convert): I-HIM50K_as_val" in out
    assert "made 2 of 2 split(s)" in out
    after = files(root)
    assert all(after[rel][1] == data for rel, (_, data) in before.items())
    assert run_cli("fill", "dataset=demo", f"out={root}", "workers=1")[1].count("nothing to do") == 1


def test_dry_run_writes_nothing(run_cli, tmp_path):
    code, out, _ = run_cli("fill", "dataset=demo", f"out={tmp_path / 'd'}", "dry_run=true")
    assert code == 0 and "dry run: 14 split(s) would be made" in out and "missing" in out
    assert not (tmp_path / "d").exists()


def test_missing_source_folder_stops_before_writing(run_cli, tmp_path):
    hhm = trees.hhm_tree(tmp_path / "hhm")
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(f"""name: mine
root: {tmp_path / "root"}
splits:
  train:
    layout: maggie_image_train
    path: data
    samples: 4
    from: {{recipe: image_him, inputs: {{hhm: {hhm}, bg: {tmp_path / "no_such_bg"}}}}}
  val:
    layout: maggie_image_val
    path: val
    from: {{convert: train, mode: hardlink}}
""")
    code, out, err = run_cli("fill", f"dataset={cfg}")
    assert code == 2 and "no_such_bg" in err and "does not exist" in err
    assert not (tmp_path / "root").exists()


def test_user_config_with_existing_tree_and_masks(run_cli, tmp_path):
    """An existing tree is never rewritten; only its declared mask set is added."""
    val = trees.val_tree(tmp_path / "root" / "val", masks=())
    before = files(val)
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(
        """name: mine
root: ROOT
splits:
  natural: {layout: maggie_image_val, path: val, from: {existing: true}, masks: {masks_a: detector}, trimap: [3, 5]}
""".replace("ROOT", str(tmp_path / "root"))
    )
    code, out, err = run_cli("fill", f"dataset={cfg}", "workers=1")
    assert code == 0 and "add masks" in out, err
    after = files(val)
    assert all(after[rel] == v for rel, v in before.items())
    assert any("masks_a" in rel for rel in after) and any(rel.startswith("trimap/natural/") for rel in after)
    code, out, err = run_cli("fill", f"dataset={cfg}", "workers=1")
    assert "nothing to do" in out
    (tmp_path / "root" / "val").rename(tmp_path / "root" / "gone")
    code, _, err = run_cli("fill", f"dataset={cfg}", "workers=1")
    assert code == 2 and "fill never writes it" in err


def test_maggie_him_config_from_own_sources(run_cli, demo_root, tmp_path):
    """The published MaGGIe structure from the user's sources (here the demo's, at small counts)."""
    src = demo_root / "sources"
    root = tmp_path / "maggie"
    code, out, err = run_cli(
        "fill",
        "dataset=maggie_him",
        f"out={root}",
        "workers=1",
        f"dataset.sources.hhm={src / 'HHM'}",
        f"dataset.sources.bg={src / 'BG-20K' / 'train'}",
        f"dataset.sources.him2k={demo_root / 'data' / 'HIM2K_M-HIM2K'}",
        f"dataset.sources.clips={src / 'VideoMatte'}",
        f"dataset.sources.bg_videos={src / 'BG-20K' / 'train'}",
        "dataset.splits.I-HIM50K.samples=2",
        "dataset.splits.V-HIM2K5.samples=2",
        "dataset.splits.comp_easy.samples=1",
        "dataset.splits.comp_medium.samples=1",
        "dataset.splits.comp_hard.samples=1",
    )
    assert code == 0, err
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == ["HIM2K_M-HIM2K", "I-HIM50K", "V-HIM2K5", "V-HIM60"]
    val = root / "HIM2K_M-HIM2K"
    assert len([d for d in val.iterdir() if d.name.startswith("masks_matched_")]) == 10
    assert (root / "V-HIM60" / "comp_hard" / "xmem").is_dir()
    # The published schedule (500 easy, 1000 medium, ...) cut to the declared 2 samples: ids 00000-00001.
    assert sorted(p.name for p in (root / "V-HIM2K5" / "fgr").iterdir()) == ["00000", "00001"]
    assert validate(str(root), workers=1).findings == []


def test_dvm_config_and_its_required_sources(run_cli, demo_root, tmp_path):
    code, _, err = run_cli("fill", "dataset=dvm", f"out={tmp_path / 'dvm'}", f"dataset.sources.dvm={demo_root / 'sources' / 'DVM'}")
    assert code == 2 and "needs 1 source(s) you have not given: dataset.sources.train_pairs=DIR (read by train)" in err
    assert not (tmp_path / "dvm").exists()
    code, _, err = run_cli(
        "fill",
        "dataset=dvm",
        f"out={tmp_path / 'dvm'}",
        f"dataset.sources.dvm={demo_root / 'sources' / 'DVM'}",
        "~dataset.splits.train",
        "workers=1",
    )
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "dvm" / "test").iterdir() if not p.name.startswith(".")) == ["a", "a_png", "b", "f", "t", "v"]


def test_fill_names_every_missing_source_at_once_and_a_dry_run_still_plans(run_cli, tmp_path):
    code, _, err = run_cli("fill", "dataset=maggie_him", f"out={tmp_path / 'mh'}")
    assert code == 2 and err.count("error:") == 1
    for key in ("hhm", "bg", "him2k", "clips", "bg_videos"):
        assert f"dataset.sources.{key}=DIR" in err
    assert "dataset.sources.clips=DIR (read by V-HIM2K5, comp_easy, comp_medium, comp_hard)" in err
    code, out, err = run_cli("fill", "dataset=maggie_him", f"out={tmp_path / 'mh'}", "dry_run=true")
    assert code == 2 and "I-HIM50K" in out and "0/50000" in out and "dataset.sources.him2k=DIR (read by natural, comp)" in err
    assert "warning" not in err  # no shared-source warning about sources that are not given
    assert not (tmp_path / "mh").exists()


def test_fill_requires_a_dataset_and_its_help_lists_them(run_cli):
    code, _, err = run_cli("fill")
    assert code == 2 and "dataset= is required: one of demo, dvm, maggie_him or a YAML file" in err
    code, out, _ = run_cli("fill", "--help")
    said = " ".join(out.split())  # as read: a line too long for the output goes on, indented, on the next
    assert code == 0 and "maggie_him: needs hhm, bg, him2k, clips, bg_videos; may set clips_test, bg_videos_test" in said
    assert "demo: needs no source" in said and "dvm: needs dvm, train_pairs" in said
