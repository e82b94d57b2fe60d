"""``himfmt.data``: samples from any root as numpy arrays, each seen once per epoch across ranks and workers."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from PIL import Image

from himfmt.data import Samples, torch_dataset
from himfmt.errors import HimfmtError

import trees

STEMS = tuple(f"s{i}" for i in range(7))


@pytest.fixture
def train(tmp_path):
    return trees.train_tree(tmp_path / "train", "I-HIM50K", stems=STEMS, n_inst=2, masks=("m",))


def test_a_sample_is_what_the_loaders_read(train):
    samples = list(Samples(train))
    assert [s["key"] for s in samples] == [f"I-HIM50K/{s}" for s in STEMS]
    first = samples[0]
    image = np.asarray(Image.open(train / "I-HIM50K" / "images" / "s0.jpg").convert("RGB"))
    assert first["image"].dtype == np.uint8 and first["image"].shape == image.shape
    assert np.abs(first["image"].astype(int) - image).mean() < 1.5  # the same JPEG, two decoders
    mattes = [np.asarray(Image.open(train / "I-HIM50K" / "alphas" / "s0" / f"{k:02d}.png")) for k in range(2)]
    assert np.array_equal(first["mattes"], np.stack(mattes))
    assert first["masks"]["m"].shape == first["mattes"].shape and first["layout"] == "maggie_image_train"


def test_ranks_and_workers_split_an_epoch_without_overlap(train):
    whole = [k for k, _, _ in Samples(train, shuffle_seed=3, epoch=1).items()]
    parts = [
        [s["key"] for s in Samples(train, shuffle_seed=3, epoch=1, rank=r, world_size=2, worker=w, num_workers=2)]
        for r in range(2)
        for w in range(2)
    ]
    assert sorted(k for p in parts for k in p) == sorted(whole) and len(set(whole)) == len(STEMS)
    assert whole == [k for k, _, _ in Samples(train, shuffle_seed=3, epoch=1).items()]  # the same on every rank
    assert whole != [k for k, _, _ in Samples(train, shuffle_seed=3, epoch=2).items()]  # another epoch, another order
    with pytest.raises(HimfmtError):
        Samples(train, rank=2, world_size=2)


def test_a_zip_read_in_place_gives_the_same_arrays(train, tmp_path):
    archive = tmp_path / "train.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted(train.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(train).as_posix())
    for a, b in zip(Samples(train), Samples(archive)):
        assert a["key"] == b["key"] and np.array_equal(a["image"], b["image"]) and np.array_equal(a["mattes"], b["mattes"])


def test_a_clip_is_one_sample_of_frames(tmp_path):
    root = trees.video_tree(tmp_path / "v", "comp_easy", videos=("v0", "v1"), n_frames=8, n_inst=2, masks=("xmem",))
    clip = next(iter(Samples(root)))
    assert clip["frames"].shape[0] == 8 and clip["frames"].shape[-1] == 3
    assert clip["mattes"].shape[:2] == (8, 2) and clip["masks"]["xmem"].shape == clip["mattes"].shape
    assert clip["frame_names"] == [f"{i:05d}" for i in range(8)]


def test_a_dataloader_with_two_workers_sees_each_sample_once(train):
    torch = pytest.importorskip("torch", reason="the torch part is tested where torch is installed (pip install torch)")
    data = torch_dataset(train, shuffle_seed=0)
    keys = [k for batch in torch.utils.data.DataLoader(data, batch_size=None, num_workers=2) for k in [batch["key"]]]
    assert sorted(keys) == [f"I-HIM50K/{s}" for s in STEMS]
