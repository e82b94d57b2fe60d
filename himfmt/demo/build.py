"""The demo kit: source trees built from procedural people and backgrounds.

Each builder in ``KIT`` writes one tree a researcher would download: HHM
people, BG-20K stills, VideoMatte clips, DVM sources (fgs, bg videos, a pair
list). Everything else in the demo is made from these by ``himfmt fill`` with
``conf/dataset/demo.yaml``: the recipes, conversions and mask sets, as a user
would make them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from himfmt.demo import kit
from himfmt.errors import HimfmtError
from himfmt.layouts import WriteOptions
from himfmt.layouts.dvm_pairs import Pair
from himfmt.layouts.writer import write_dataset, write_samples
from himfmt.model import ArrayRef, Dataset, Frame, Instance, Sample
from himfmt.synthesis.composite import Canvas

WIDTH, HEIGHT = 320, 240


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng(list(key))


DVM_FRAMES = 12


# The first image fg's name has spaces and brackets, as DVM's own file names do.
def dvm_image_fg_name(k: int) -> str:
    return "person (1).png" if k == 0 else f"person_{k + 1}.png"


def _dvm_image_fg(seed: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = _rng(seed, 7, k)
    fg, a = kit.person(rng, int(HEIGHT * 0.8))
    return fg, a


def dvm_source(out: Path, seed: int, n: int) -> None:
    """``n`` fgs (``n - 1`` images, one video), one bg video each, and the pair list that pairs them."""
    if n < 2:
        raise HimfmtError(f"the dvm_source kit makes image fgs and one video fg: samples: 2 or more, not {n}")
    samples, pairs = [], []
    for k in range(n - 1):
        fg, a = _dvm_image_fg(seed, k)
        name = dvm_image_fg_name(k)
        stem = name.rsplit(".", 1)[0]
        samples.append(Sample(stem, "test", [Frame(stem, ArrayRef(fg), [Instance("00", ArrayRef(a))])]))
        pairs.append(Pair("image", name, f"{k:04d}.mp4", k + 1))
    clip = kit.clip_frames(_rng(seed, 8), DVM_FRAMES, WIDTH, HEIGHT)
    samples.append(
        Sample(
            "0000", "test", [Frame(f"{i:05d}", ArrayRef(fg), [Instance("00", ArrayRef(a))]) for i, (fg, a) in enumerate(clip)], is_clip=True
        )
    )
    pairs.append(Pair("video", "0000", f"{n - 1:04d}.mp4", n))
    ds = Dataset(
        "dvm_source",
        None,  # type: ignore[arg-type]  # a dataset built in memory, on no tree
        "",
        {"test": "test"},
        samples=samples,
        kind="video",
        pair_lists={"test_pairs.txt": pairs},
    )
    for b in range(n):
        rng = _rng(seed, 9, b)
        still = kit.background(rng, WIDTH + 40, HEIGHT + 30)
        # A fixed window panning over a still: frames of one size that move.
        frames = [Frame(f"{i:05d}", ArrayRef(np.ascontiguousarray(still[i : i + HEIGHT, i : i + WIDTH]))) for i in range(DVM_FRAMES)]
        ds.backgrounds.append(Sample(f"{b:04d}", "test", frames, is_clip=True))
    write_dataset(ds, "dvm_source", out, WriteOptions(trimap=(3, 5)))


def hhm(out: Path, seed: int, n: int) -> None:
    """``n`` single-person photos with their mattes (HHM)."""
    people = []
    for i in range(n):
        rng = _rng(seed, 4, i)
        fg, a = kit.person(rng, int(rng.integers(150, 230)))
        canvas = Canvas(kit.background(rng, fg.shape[1] + 40, fg.shape[0] + 20))
        canvas.paste(fg, a, 20, 20)
        people.append(
            Sample(f"person_{i:03d}", "train", [Frame("p", ArrayRef(canvas.image), [Instance("00", ArrayRef(canvas.mattes[0]))])])
        )
    write_samples("hhm", people, out)


def bg_images(out: Path, seed: int, n: int) -> None:
    """``n`` background stills (BG-20K)."""
    bgs = [Sample(f"h_{i:08x}", "train", [Frame("b", ArrayRef(kit.background(_rng(seed, 5, i), WIDTH, HEIGHT)))]) for i in range(n)]
    write_samples("bg_images", bgs, out)


def video_matte(out: Path, seed: int, n: int) -> None:
    """``n`` foreground clips of 10 frames (VideoMatte240K)."""
    clips = []
    for c in range(n):
        frames = [
            Frame(f"{f:05d}", ArrayRef(fg), [Instance("00", ArrayRef(a))])
            for f, (fg, a) in enumerate(kit.clip_frames(_rng(seed, 6, c), 10, WIDTH, HEIGHT))
        ]
        clips.append(Sample(f"{c:04d}", "train", frames, is_clip=True))
    write_samples("video_matte", clips, out)


# The source trees the demo kit builds (what a researcher downloads), by name:
# `from: {kit: NAME}` in a dataset config (conf/dataset/demo.yaml), whose `samples:` is the count.
KIT: dict[str, Callable[[Path, int, int], None]] = {
    "hhm": hhm,
    "bg_images": bg_images,
    "video_matte": video_matte,
    "dvm_source": dvm_source,
}
