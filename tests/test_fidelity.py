"""Fidelity: the published statistics and encodings, no leakage, checks and conversions that take the right picture."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from himfmt.conversion.job import Job, convert
from himfmt.errors import HimfmtError
from himfmt.layouts import WriteOptions
from himfmt.layouts.detect import open_datasets
from himfmt.layouts.writer import write_samples
from himfmt.model import ArrayRef, Frame, Instance, Sample
from himfmt.synthesis.composite import Resample, scaled
from himfmt.validation import validate

import trees


def codes(root, deep=True):
    return sorted((f.code, f.path) for f in validate(str(root), deep_pass=deep, workers=1).findings)


# 3. Encoding and resampling as published ------------------------------------------------------------


def jpeg_quality_of(path) -> int:
    """The quality setting whose luminance table (libjpeg's scaling of the standard one) the file carries."""
    import io

    with Image.open(path) as im:
        table = list(im.quantization[0])
    probe = Image.new("RGB", (8, 8))
    for q in range(1, 101):
        buf = io.BytesIO()
        probe.save(buf, "JPEG", quality=q)
        if list(Image.open(buf).quantization[0]) == table:
            return q
    return -1


@pytest.mark.parametrize(
    "recipe, args, quality",
    [
        ("image_him", ["hhm={hhm}", "bg={bg}"], 75),
        ("image_him", ["hhm={hhm}", "bg={bg}", "recipe.jpeg_quality=90"], 90),
    ],
)
def test_jpeg_quality_is_the_recipes(run_cli, inputs, tmp_path, recipe, args, quality):
    hhm, bg = inputs
    out = tmp_path / "out"
    code, _, err = run_cli("synth", f"recipe={recipe}", *[a.format(hhm=hhm, bg=bg) for a in args], f"out={out}", "n=1", "workers=1")
    assert code == 0, err
    image = next(out.rglob("images/*.jpg"))
    assert jpeg_quality_of(image) == quality


def test_dvm_writes_quality_95(run_cli, tmp_path):
    src = trees.dvm_source_tree(tmp_path / "DVM")
    code, _, err = run_cli("synth", "recipe=dvm", f"source={src}", "phase=test", f"out={tmp_path / 'out'}", "workers=1")
    assert code == 0, err
    assert jpeg_quality_of(next((tmp_path / "out").rglob("v/*/00000.jpg"))) == 95


def test_people_are_resized_with_pillows_filters():
    """The default filters are Pillow's (bicubic for images, bilinear for video, antialiased when shrinking)."""
    from himfmt.synthesis import image_him, video_him

    person = trees.matte(3, 120, 200)
    for resample, pil in ((Resample.bicubic, Image.Resampling.BICUBIC), (Resample.bilinear, Image.Resampling.BILINEAR)):
        assert np.array_equal(scaled(person, (45, 75), resample), np.asarray(Image.fromarray(person).resize((45, 75), pil)))
    assert image_him.Config().resample == Resample.bicubic and video_him.Config().resample == Resample.bilinear

    def soft_band(a: np.ndarray) -> int:
        return int(np.count_nonzero((a > 12) & (a < 243)))

    area = soft_band(scaled(person, (45, 75), Resample.area))
    assert soft_band(scaled(person, (45, 75), Resample.bicubic)) < area  # sharper edges than area averaging


# 4. No leakage between train and test ---------------------------------------------------------------


def test_test_splits_draw_their_own_samples(run_cli, tmp_path):
    clips = trees.video_matte_tree(tmp_path / "clips", clips=("0000", "0001", "0002"), n_frames=4)
    bg = trees.bg_tree(tmp_path / "bg", 3)
    out = tmp_path / "data"
    for split in ("V-HIM2K5", "comp_easy"):
        code, _, err = run_cli(
            "synth", "recipe=video_him", f"clips={clips}", f"bg={bg}", f"out={out}", "n=2", f"split={split}", "workers=1"
        )
        assert code == 0, err
    a = (out / "V-HIM2K5" / "fgr" / "00000" / "00000.jpg").read_bytes()
    b = (out / "comp_easy" / "fgr" / "00000" / "00000.jpg").read_bytes()
    assert a != b
    assert [f for f in validate(str(out), workers=1).findings if f.code == "split.shared_image"] == []


def test_validate_reports_a_picture_in_two_splits(tmp_path):
    root = tmp_path / "data"
    trees.train_tree(root, "train", stems=("a", "b"))
    trees.train_tree(root, "test", stems=("c",))
    (root / "test" / "images" / "c.jpg").write_bytes((root / "train" / "images" / "b.jpg").read_bytes())
    found = [f for f in validate(str(root), workers=1).findings if f.code == "split.shared_image"]
    assert [(f.path, f.severity) for f in found] == [("train/images/b.jpg", "warning")]
    assert "test/images/c.jpg" in found[0].message


def test_fill_warns_when_a_test_split_uses_training_sources(run_cli, tmp_path):
    hhm, bg = trees.hhm_tree(tmp_path / "HHM"), trees.bg_tree(tmp_path / "BG")
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(f"""name: mine
root: {tmp_path / "data"}
splits:
  train: {{layout: maggie_image_train, role: train, samples: 1, from: {{recipe: image_him, inputs: {{hhm: {hhm}, bg: {bg}}}}}}}
  test: {{layout: maggie_image_train, role: test, samples: 1, from: {{recipe: image_him, inputs: {{hhm: {hhm}, bg: {bg}}}}}}}
""")
    code, _, err = run_cli("fill", f"dataset={cfg}", "dry_run=true")
    assert code == 0 and "test split test is made from the sources of training split train" in " ".join(err.split())


def test_vhim60_schedule_honours_n(run_cli, tmp_path):
    clips = trees.video_matte_tree(tmp_path / "clips", clips=("0000", "0001", "0002"), n_frames=4)
    bg = trees.bg_tree(tmp_path / "bg", 3)
    code, _, err = run_cli("synth", "schedule=vhim60_test", f"clips={clips}", f"bg={bg}", f"out={tmp_path / 'V-HIM60'}", "n=1", "workers=1")
    assert code == 0, err
    for level in ("comp_easy", "comp_medium", "comp_hard"):
        made = [p.name for p in (tmp_path / "V-HIM60" / level / "fgr").iterdir()] if (tmp_path / "V-HIM60" / level).is_dir() else []
        assert len(made) <= 1  # a level whose rule rejects every draw of these tiny clips makes none
    assert sum(1 for _ in (tmp_path / "V-HIM60").glob("comp_*/fgr/*")) >= 1


# 5. Deep validation decodes what the loaders read ---------------------------------------------------


def truncate(path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("stream", ["a", "b", "t"])
def test_deep_decodes_every_dvm_stream(tmp_path, stream):
    write_samples("dvm_composed", trees.composed_samples(), tmp_path, WriteOptions(png_alpha=True, trimap=(3, 5)))
    assert codes(tmp_path) == []
    victim = sorted((tmp_path / stream).rglob("00001.jpg"))[0]
    truncate(victim)
    assert ("file.corrupt", victim.relative_to(tmp_path).as_posix()) in codes(tmp_path)


@pytest.mark.parametrize("layer", ["bg", "fg"])
def test_deep_decodes_maggie_layers(tmp_path, layer):
    root = trees.train_tree(tmp_path / "t", "I-HIM50K", stems=("a",), layers=True)
    trees.save(root / "I-HIM50K" / "fg" / "a" / "00.jpg", trees.rgb(7))
    trees.save(root / "I-HIM50K" / "fg" / "a" / "01.jpg", trees.rgb(8))
    assert codes(root) == []
    victim = next((root / "I-HIM50K" / layer).rglob("*.jpg"))
    truncate(victim)
    assert ("file.corrupt", victim.relative_to(root).as_posix()) in codes(root)


def smooth(seed: int) -> np.ndarray:
    """A smooth colour picture (JPEG keeps it within a few levels), different for each seed."""
    yy, xx = np.mgrid[0 : trees.H, 0 : trees.W]
    c = np.random.default_rng(seed).uniform(0.2, 0.8, 3)
    return np.dstack([(255 * c[k] * (0.6 + 0.4 * np.sin((xx + 3 * k) / 9 + yy / 13))).astype(np.uint8) for k in range(3)])


def composed_with_fg(fg_of) -> list[Sample]:
    frames = []
    for i in range(2):
        a = trees.matte(i)
        fg, bg = smooth(i), smooth(40 + i)
        v = (fg.astype(np.uint16) * a[..., None] // 255 + bg.astype(np.uint16) * (255 - a[..., None]) // 255).astype(np.uint8)
        frames.append(Frame(f"{i:05d}", ArrayRef(v), [Instance("00", ArrayRef(a))], fg=ArrayRef(fg_of(fg, a, v)), bg=ArrayRef(bg)))
    return [Sample("seq", "all", frames, is_clip=True)]


@pytest.mark.parametrize(
    "name, fg_of, says",
    [
        ("premultiplied", lambda fg, a, v: (fg.astype(np.uint16) * a[..., None] // 255).astype(np.uint8), None),
        ("straight", lambda fg, a, v: fg, "a straight foreground"),
        ("composite", lambda fg, a, v: v, "f/ equals v/"),
    ],
)
def test_premultiplication_check(tmp_path, name, fg_of, says):
    write_samples("dvm_composed", composed_with_fg(fg_of), tmp_path, WriteOptions(png_alpha=True))
    found = [f for f in validate(str(tmp_path), deep_pass=True, workers=1).findings if f.code == "dvm.fg_not_premultiplied"]
    if says is None:
        assert found == []
    else:
        assert found and says in found[0].message


# 6. Conversions take the right picture ----------------------------------------------------------------


def test_bg_images_come_from_the_clean_background_layer(tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K", stems=("a", "b"), layers=True)
    convert(Job(str(src), str(tmp_path / "bg"), "bg_images", workers=1))
    for stem in ("a", "b"):
        assert (tmp_path / "bg" / "I-HIM50K" / f"{stem}.jpg").read_bytes() == (src / "I-HIM50K" / "bg" / f"{stem}.jpg").read_bytes()
    with pytest.raises(HimfmtError, match="no background layer"):
        convert(Job(str(trees.val_tree(tmp_path / "val")), str(tmp_path / "bg2"), "bg_images", workers=1))


def test_dvm_foregrounds_are_unpremultiplied_f_not_the_composite(tmp_path):
    samples = composed_with_fg(lambda fg, a, v: (fg.astype(np.uint16) * a[..., None] // 255).astype(np.uint8))
    write_samples("dvm_composed", samples, tmp_path / "src", WriteOptions(png_alpha=True))
    summary = convert(Job(str(tmp_path / "src"), str(tmp_path / "vm"), "video_matte", workers=1))
    assert any(step.startswith("foregrounds are f/ divided by alpha") for step in summary.route.lossy)
    assert any(step.startswith("b/ (each frame's background) dropped") for step in summary.route.lossy)
    (ds,) = open_datasets(str(tmp_path / "vm"))
    got = ds.samples[0].frames[0].image.read_rgb().astype(int)
    truth, a = smooth(0).astype(int), trees.matte(0)
    solid = a > 200
    assert np.abs(got - truth)[solid].mean() < 12  # the person's colours (JPEG twice), not the composite
    v = samples[0].frames[0].image.read_rgb().astype(int)
    assert np.abs(got - v)[(a > 0) & (a < 200)].mean() > np.abs(got - truth)[(a > 0) & (a < 200)].mean()


def test_dvm_composed_to_source_keeps_f_and_b(tmp_path):
    write_samples("dvm_composed", trees.composed_samples(), tmp_path / "src", WriteOptions(png_alpha=True))
    summary = convert(Job(str(tmp_path / "src"), str(tmp_path / "out"), "dvm_source", workers=1))
    assert not any("no place" in step for step in summary.route.lossy)
    assert sorted(p.name for p in (tmp_path / "out" / "bg" / "train").iterdir()) == sorted(f"{s.id}.mp4" for s in trees.composed_samples())


def test_composed_clips_become_dvm_sources_with_a_pair_list_the_recipe_composes_again(tmp_path, run_cli):
    """The layout's finish step writes the dataset-level pair list from the samples as written."""
    write_samples("dvm_composed", trees.composed_samples(), tmp_path / "src", WriteOptions(png_alpha=True))
    summary = convert(Job(str(tmp_path / "src"), str(tmp_path / "out"), "dvm_source", workers=1))
    assert not summary.failed and not any("pair list" in line for line in summary.changes)
    ids = sorted(s.id for s in trees.composed_samples())
    assert (tmp_path / "out" / "train_pairs.txt").read_text() == "".join(f"video+{i}+{i}.mp4\n" for i in ids)
    code, _, err = run_cli("synth", "recipe=dvm", f"source={tmp_path / 'out'}", "phase=train", f"out={tmp_path / 'again'}", "workers=1")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "again" / "v").iterdir()) == [f"video_{i}_{i}" for i in ids]


def test_clips_without_a_background_say_that_no_pair_list_names_them(tmp_path):
    src = trees.example("maggie_video", tmp_path / "src")
    summary = convert(Job(str(src), str(tmp_path / "out"), "dvm_source", workers=1))
    assert any(line.startswith("no pair list names") for line in summary.changes)
    assert not list((tmp_path / "out").glob("*.txt"))


def test_train_to_val_says_the_layers_are_dropped(tmp_path):
    src = trees.train_tree(tmp_path / "src", "I-HIM50K", layers=True)
    summary = convert(Job(str(src), str(tmp_path / "val"), "maggie_image_val", workers=1))
    assert any(step.startswith("fg and bg layers dropped (fg/ and bg/)") for step in summary.route.lossy)
    plain = convert(Job(str(trees.train_tree(tmp_path / "plain", "I-HIM50K")), str(tmp_path / "val2"), "maggie_image_val", workers=1))
    assert not any("layers dropped" in step for step in plain.route.lossy)
