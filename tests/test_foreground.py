"""recipe.foreground: estimated foreground colours, measured against known truth, cached, deterministic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from himfmt.demo import kit
from himfmt.io import images
from himfmt.synthesis.foreground import Foreground, ForegroundEstimator, blur_fusion
from himfmt.synthesis.foreground_cache import FOLDER

import trees
from helpers import digest

HEIGHT = 160  # of the people in their photos


def known_truth(root: Path, n: int = 4) -> tuple[Path, Path, Path]:
    """Two hhm trees of the same people, with the same mattes: ``photos`` shot in front of busy backgrounds
    (``a*F + (1-a)*B``, lossless PNG) and ``clean`` holding the true F; and a folder of new backgrounds."""
    for i in range(n):
        photo, matte, fg = trees.photographed(np.random.default_rng(i), HEIGHT)
        for tree, image in (("photos", photo), ("clean", fg)):
            trees.save(root / tree / "images" / f"p{i}.png", image)
            trees.save(root / tree / "alphas" / f"p{i}.png", matte)
    for b in range(2):
        trees.save(root / "bg" / f"b{b}.png", kit.background(np.random.default_rng(50 + b), 320, 200))
    return root / "photos", root / "clean", root / "bg"


def make(run_cli, hhm: Path, bg: Path, out: Path, *extra: str) -> Path:
    code, _, err = run_cli(
        "synth", f"hhm={hhm}", f"bg={bg}", f"out={out}", "n=4", "workers=1", "recipe.jpeg_quality=100", "recipe.people_max=2", *extra
    )
    assert code == 0, err
    return out


def edge_error(out: Path, ideal: Path) -> float:
    """Mean absolute RGB error of the composites against the ideal ones, over pixels whose matte is soft."""
    errors = []
    for image in sorted((ideal / "I-HIM50K" / "images").iterdir()):
        got = images.decode_rgb((out / "I-HIM50K" / "images" / image.name).read_bytes(), "got").astype(int)
        want = images.decode_rgb(image.read_bytes(), "want").astype(int)
        mattes = [images.decode_gray(p.read_bytes(), "m") for p in sorted((ideal / "I-HIM50K" / "alphas" / image.stem).iterdir())]
        soft = np.any([(m > 0) & (m < 255) for m in mattes], axis=0)
        errors.append(np.abs(got - want)[soft])
    return float(np.concatenate(errors).mean())


@pytest.mark.slow  # five image_him runs; pymatting compiles its estimator once per new environment (4 s)
@pytest.mark.needs("pymatting")
def test_known_truth_error_ordering(run_cli, tmp_path):
    """The same draws from photos and from the true foregrounds: estimates land closer to the ideal composite."""
    photos, clean, bg = known_truth(tmp_path)
    ideal = make(run_cli, clean, bg, tmp_path / "ideal")
    error = {
        mode: edge_error(make(run_cli, photos, bg, tmp_path / mode, f"recipe.foreground={mode}"), ideal)
        for mode in ("photo", "fast", "best")
    }
    print(error)
    assert error["photo"] > error["fast"] > error["best"] > 0, error


def test_fast_keeps_opaque_pixels_and_handles_empty_and_full_mattes():
    photo, matte, _ = trees.photographed(np.random.default_rng(3), 120)
    f = blur_fusion(photo, matte)
    assert f.shape == photo.shape and f.dtype == np.uint8
    assert np.array_equal(f[matte == 255], photo[matte == 255])
    assert not np.array_equal(f[(matte > 0) & (matte < 255)], photo[(matte > 0) & (matte < 255)])
    for a in (np.zeros(matte.shape, np.uint8), np.full(matte.shape, 255, np.uint8)):
        assert np.array_equal(blur_fusion(photo, a), photo)
    assert blur_fusion(photo[:1, :1], matte[:1, :1]).shape == (1, 1, 3)


def test_fg_layers_hold_the_estimate_black_where_nobody_is(run_cli, tmp_path):
    photos, _, bg = known_truth(tmp_path, 2)
    out = make(run_cli, photos, bg, tmp_path / "o", "recipe.foreground=fast", "recipe.layers=true")
    photo_out = make(run_cli, photos, bg, tmp_path / "p", "recipe.layers=true")
    layers = sorted((out / "I-HIM50K" / "fg").rglob("*.jpg"))
    assert layers
    changed = 0
    for layer in layers:
        rel = layer.relative_to(out)
        matte = images.decode_gray((out / "I-HIM50K" / "alphas" / rel.parent.name / (layer.stem + ".png")).read_bytes(), "m")
        fg = images.decode_rgb(layer.read_bytes(), "fg").astype(int)
        far = cv2.dilate((matte > 0).view(np.uint8), np.ones((5, 5), np.uint8)) == 0
        assert fg[far].max() <= 3  # black where nobody is (JPEG's chroma bleeds a pixel or two past the edge)
        changed += int(
            np.abs(fg - images.decode_rgb((photo_out / rel).read_bytes(), "p").astype(int))[(matte > 0) & (matte < 255)].mean() > 1
        )
    assert changed == len(layers)


@pytest.mark.slow  # pymatting loads in each of the two worker processes
@pytest.mark.needs("pymatting")
def test_best_is_cached_once_per_person_and_hits_give_the_same_bytes(run_cli, tmp_path):
    photos, _, bg = known_truth(tmp_path)
    first = make(run_cli, photos, bg, tmp_path / "a", "recipe.foreground=best")
    entries = sorted((first / FOLDER).rglob("*.png"))
    assert 0 < len(entries) <= 4  # one per person drawn, however many samples drew them
    stamps = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in entries}
    # Another job into the same output (other ids, the same people) reads the entries: none is written again.
    code, _, err = run_cli(
        "synth",
        f"hhm={photos}",
        f"bg={bg}",
        f"out={first}",
        "n=4",
        "first=4",
        "workers=2",
        "recipe.jpeg_quality=100",
        "recipe.people_max=2",
        "recipe.foreground=best",
    )
    assert code == 0, err
    after = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted((first / FOLDER).rglob("*.png"))}
    assert {p: after[p] for p in stamps} == stamps and len(after) <= 4
    # Ids 4-7 made from cache hits by two workers, ids 0-3 from scratch by one: the bytes of one fresh run of 8.
    fresh = make(run_cli, photos, bg, tmp_path / "c", "recipe.foreground=best", "n=8", "workers=2")
    assert digest(fresh) == digest(first) != {}


def test_cache_entry_that_is_damaged_poisoned_or_a_link_is_made_again(tmp_path):
    photo, matte, _ = trees.photographed(np.random.default_rng(1), 60)
    calls = []

    def estimate(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        calls.append(1)
        return blur_fusion(image, alpha)

    from himfmt.synthesis.foreground_cache import ForegroundCache, crop_key

    cache = ForegroundCache(tmp_path, "test")
    first = cache.get_or_make(photo, matte, estimate)
    assert np.array_equal(cache.get_or_make(photo, matte, estimate), first) and len(calls) == 1
    key = crop_key(photo, matte, "test")

    def entry() -> Path:
        return next((tmp_path / cache.folder(key)).glob(f"{key}-*.png"))

    entry().write_bytes(b"\x89PNG broken")
    assert np.array_equal(cache.get_or_make(photo, matte, estimate), first) and len(calls) == 2
    magenta = np.zeros_like(first)
    magenta[..., 0] = magenta[..., 2] = 255
    for bad in list((tmp_path / cache.folder(key)).iterdir()):
        bad.write_bytes(images.encode_png(magenta))  # a valid picture, other pixels, the entry's name
    assert np.array_equal(cache.get_or_make(photo, matte, estimate), first) and len(calls) == 3
    good = [p for p in (tmp_path / cache.folder(key)).iterdir() if p.read_bytes() == images.encode_png(first)][0]
    secret = tmp_path / "elsewhere.png"
    secret.write_bytes(good.read_bytes())
    good.unlink()
    good.symlink_to(secret)
    assert np.array_equal(cache.get_or_make(photo, matte, estimate), first) and len(calls) == 4
    assert secret.read_bytes() == images.encode_png(first)


def test_fast_is_the_same_for_any_workers_and_shards(run_cli, tmp_path):
    photos, _, bg = known_truth(tmp_path)
    one = make(run_cli, photos, bg, tmp_path / "w1", "recipe.foreground=fast", "n=6")
    two = make(run_cli, photos, bg, tmp_path / "w2", "recipe.foreground=fast", "n=6", "workers=2")
    for k in range(2):
        make(run_cli, photos, bg, tmp_path / "sh", "recipe.foreground=fast", "n=6", f"shard.index={k}", "shard.count=2")
    assert digest(one) == digest(two) == digest(tmp_path / "sh") != {}
    assert not (one / FOLDER).exists()  # fast is not worth caching


@pytest.mark.parametrize("recipe, inputs", [("people_walk", "hhm"), ("video_him", "clips"), ("dvm", "dvm")])
def test_every_photo_pasting_recipe_takes_the_option(run_cli, sources, tmp_path, recipe, inputs):
    args = {
        "people_walk": [f"hhm={sources['hhm']}", f"bg={sources['bg']}", "n=2", "recipe.frames=3"],
        "video_him": [f"clips={sources['clips']}", f"bg={sources['bg']}", "n=2", "recipe.frames=3"],
        "dvm": [f"source={sources['dvm']}", "phase=test", "recipe.image_frames=3", "recipe.video_frames=3"],
    }[recipe]
    outs = {}
    for mode in ("photo", "fast"):
        code, _, err = run_cli("synth", f"recipe={recipe}", *args, f"out={tmp_path / mode}", "workers=1", f"recipe.foreground={mode}")
        assert code == 0, err
        outs[mode] = digest(tmp_path / mode)
    assert outs["photo"].keys() == outs["fast"].keys()
    assert outs["photo"] != outs["fast"]  # the soft edges got other colours


def test_foreground_option_is_typed(run_cli, inputs, tmp_path):
    hhm, bg = inputs
    code, _, err = run_cli("synth", f"hhm={hhm}", f"bg={bg}", f"out={tmp_path / 'o'}", "n=1", "recipe.foreground=maybe")
    assert code == 2 and "photo" in err and "fast" in err and "best" in err
    assert not (tmp_path / "o").exists()


def test_best_without_pymatting_is_one_line(inputs, tmp_path):
    """As on a machine without the extra: the import fails, the run stops before any work with one line."""
    hhm, bg = inputs
    script = (
        "import sys; sys.modules['pymatting'] = None; from himfmt.cli.main import main; "
        f"main(['synth', 'hhm={hhm}', 'bg={bg}', 'out={tmp_path / 'o'}', 'n=2', 'recipe.foreground=best'])"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "pip install 'himfmt[matting]'" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "o" / "I-HIM50K").exists()


def test_estimator_in_photo_mode_returns_the_photo():
    photo, matte, _ = trees.photographed(np.random.default_rng(2), 40)
    assert ForegroundEstimator(Foreground.photo)(photo, matte) is photo


def test_preview_edges_shows_the_band_where_modes_differ(run_cli, tmp_path):
    from himfmt.inspection.preview import preview
    from himfmt.layouts.detect import open_datasets

    photos, _, bg = known_truth(tmp_path, 2)
    bands = {}
    for mode in ("photo", "fast"):
        out = make(run_cli, photos, bg, tmp_path / mode, f"recipe.foreground={mode}")
        sheet, panels = preview(open_datasets(str(out)), n=1, edges=True)
        assert [p.kind for p in panels] == ["composite", "overlay", "edges"]
        x, y, w, h = panels[-1].box
        assert w == h == 240
        bands[mode] = np.asarray(sheet)[y : y + h, x : x + w].astype(int)
    assert np.abs(bands["photo"] - bands["fast"]).mean() > 1  # the same place, other colours at the edge
    code, text, err = run_cli("preview", str(tmp_path / "fast"), f"out={tmp_path / 'sheet.png'}", "edges=true")
    assert code == 0 and (tmp_path / "sheet.png").is_file(), err
    code, _, err = run_cli("preview", str(tmp_path / "fast"), f"out={tmp_path / 'x.png'}", "edges=maybe")
    assert code == 2 and not (tmp_path / "x.png").exists()


def test_edge_band_is_none_without_soft_mattes():
    from himfmt.inspection.preview import edge_band

    image = np.zeros((50, 60, 3), np.uint8)
    hard = np.zeros((50, 60), np.uint8)
    hard[10:40, 10:30] = 255
    assert edge_band(image, [hard], 240) is None
    hard[9, 10:30] = 100
    band = edge_band(image + 200, [hard], 240)
    assert band is not None and band.shape == (200, 200, 3)  # a 50-px side (the whole height), magnified 4x


@pytest.mark.needs("pymatting")
def test_best_loads_only_pymattings_estimator():
    """The package's __init__ compiles every pymatting algorithm (41 s in a new environment); himfmt needs one."""
    script = (
        "import sys; from himfmt.synthesis.foreground import multilevel; import numpy as np; "
        "f = multilevel(np.full((8, 6, 3), 90, np.uint8), np.full((8, 6), 128, np.uint8)); "
        "print(f.shape, f.dtype, 'pymatting.alpha' in sys.modules, 'pymatting' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["(8,", "6,", "3)", "uint8", "False", "False"]
