"""Build the demo's source trees from the procedural kit, through the layout writers.

``build`` writes what a researcher downloads: HHM people, BG-20K stills,
VideoMatte clips, DVM sources (fgs, bg videos, a pair list), and the val set
with detector masks, which no recipe makes. Everything else in the demo is
made from these sources by the synthesis recipes (``SYNTH_RUNS``), as a user
would make it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..model import ArrayRef, Dataset, Frame, Instance, Sample
from ..synth.composite import Canvas
from ..layouts import WriteOptions
from ..layouts.dvm_pairs import Pair
from ..write import write_dataset, write_samples
from . import kit

WIDTH, HEIGHT = 320, 240
MASK_SOURCES = ("masks_matched_r50_fpn_3x", "masks_matched_r101_fpn_3x")


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng(list(key))


def threshold_mask(matte: np.ndarray, level: int = 127) -> np.ndarray:
    return np.where(matte > level, 255, 0).astype(np.uint8)


def compose_image(seed: int, idx: int, n_people: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """A background with people placed left to right, overlapping a little."""
    rng = _rng(seed, 1, idx)
    canvas = Canvas(kit.background(rng, WIDTH, HEIGHT))
    step = WIDTH // (n_people + 1)
    for k in range(n_people):
        fg, a = kit.person(rng, int(HEIGHT * rng.uniform(0.55, 0.9)))
        x = step * (k + 1) - fg.shape[1] // 2 + int(rng.integers(-15, 16))
        canvas.paste(fg, a, x, HEIGHT - fg.shape[0] - int(rng.integers(0, 20)))
    return canvas.image, canvas.mattes


def image_sample(sid: str, split: str, image: np.ndarray, mattes: list[np.ndarray], masks: tuple[str, ...]) -> Sample:
    insts = [
        Instance(f"{k:02d}", ArrayRef(m), {s: ArrayRef(threshold_mask(m, 64 + 32 * j)) for j, s in enumerate(masks)})
        for k, m in enumerate(mattes)
    ]
    return Sample(sid, split, [Frame(sid, ArrayRef(image), insts)])


DVM_FRAMES = 12
DVM_IMAGE_FGS = ("person (1).png", "person_2.png")


def _dvm_image_fg(seed: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = _rng(seed, 7, k)
    fg, a = kit.person(rng, int(HEIGHT * 0.8))
    return fg, a


def dvm_source(out: Path, seed: int) -> None:
    """Image fgs (one with spaces and brackets in its name), a video fg, bg videos, pair lists."""
    samples = []
    for k, name in enumerate(DVM_IMAGE_FGS):
        fg, a = _dvm_image_fg(seed, k)
        stem = name.rsplit(".", 1)[0]
        samples.append(Sample(stem, "test", [Frame(stem, ArrayRef(fg), [Instance("00", ArrayRef(a))])]))
    clip = kit.clip_frames(_rng(seed, 8), DVM_FRAMES, WIDTH, HEIGHT)
    samples.append(Sample("0000", "test", [Frame(f"{i:05d}", ArrayRef(fg), [Instance("00", ArrayRef(a))]) for i, (fg, a) in enumerate(clip)], is_clip=True))
    ds = Dataset("dvm_source", None, "", {"test": "test"}, samples=samples)  # type: ignore[arg-type]
    for b in range(3):
        rng = _rng(seed, 9, b)
        still = kit.background(rng, WIDTH + 40, HEIGHT + 30)
        # A fixed window panning over a still: frames of one size that move.
        frames = [Frame(f"{i:05d}", ArrayRef(np.ascontiguousarray(still[i: i + HEIGHT, i: i + WIDTH]))) for i in range(DVM_FRAMES)]
        ds.backgrounds.append(Sample(f"{b:04d}", "test", frames, is_clip=True))
    ds.meta["pairs"] = {"test_pairs.txt": [
        Pair("image", DVM_IMAGE_FGS[0], "0000.mp4", 1), Pair("image", DVM_IMAGE_FGS[1], "0001.mp4", 2), Pair("video", "0000", "0002.mp4", 3),
    ]}
    write_dataset(ds, "dvm_source", out, WriteOptions(trimap=(3, 5)))


# The demo's data trees, each one `himfmt synth` run: (name, overrides); paths relative to the demo root.
SYNTH_RUNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("I-HIM50K", ("recipe=image_him", "hhm=sources/HHM", "bg=sources/BG-20K", "out=data", "n=8")),
    ("V-HIM2K5", ("recipe=video_him", "recipe.difficulty=medium", "split=V-HIM2K5", "clips=sources/VideoMatte",
                  "bg=sources/BG-20K/train", "out=data", "n=2")),
    ("V-HIM60", ("schedule=vhim60_test", "clips=sources/VideoMatte", "bg=sources/BG-20K/train", "out=data/V-HIM60",
                 "runs.0.n=2", "runs.1.n=2", "runs.2.n=2")),
    ("people_walk", ("recipe=people_walk", "hhm=sources/HHM", "bg=sources/DVM/bg/test", "out=data", "n=2", f"recipe.frames={DVM_FRAMES}")),
    ("DVM_composed", ("recipe=dvm", "source=sources/DVM", "phase=test", "out=data/DVM_composed", "recipe.trimap=[3,5]")),
)


def build(out: Path, seed: int = 0, progress: Callable[[str], None] = lambda s: None) -> dict[str, Path]:
    """Write the demo's source trees (and the val set) into ``out``; returns tree name -> path."""
    made: dict[str, Path] = {}

    def emit(name: str, layout: str, samples: list[Sample], rel: str, **kw: object) -> None:
        progress(name)
        write_samples(layout, samples, out / rel, **kw)
        made[name] = out / rel

    people = []
    for i in range(12):
        rng = _rng(seed, 4, i)
        fg, a = kit.person(rng, int(rng.integers(150, 230)))
        canvas = Canvas(kit.background(rng, fg.shape[1] + 40, fg.shape[0] + 20))
        canvas.paste(fg, a, 20, 20)
        people.append(Sample(f"person_{i:03d}", "train", [Frame("p", ArrayRef(canvas.image), [Instance("00", ArrayRef(canvas.mattes[0]))])]))
    emit("hhm", "hhm", people, "sources/HHM")
    bgs = [Sample(f"h_{i:08x}", "train", [Frame("b", ArrayRef(kit.background(_rng(seed, 5, i), WIDTH, HEIGHT)))]) for i in range(6)]
    emit("bg_images", "bg_images", bgs, "sources/BG-20K")
    clips = []
    for c in range(3):
        frames = [
            Frame(f"{f:05d}", ArrayRef(fg), [Instance("00", ArrayRef(a))])
            for f, (fg, a) in enumerate(kit.clip_frames(_rng(seed, 6, c), 10, WIDTH, HEIGHT))
        ]
        clips.append(Sample(f"{c:04d}", "train", frames, is_clip=True))
    emit("video_matte", "video_matte", clips, "sources/VideoMatte")

    val = [
        image_sample(f"{split}_{i:03d}", split, *compose_image(seed, 100 + 10 * j + i, 2 + i % 2), MASK_SOURCES)
        for j, split in enumerate(("natural", "comp"))
        for i in range(3)
    ]
    emit("HIM2K_M-HIM2K", "maggie_image_val", val, "data/HIM2K_M-HIM2K")
    progress("DVM")
    dvm_source(out / "sources/DVM", seed)
    made["dvm_source"] = out / "sources/DVM"
    return made
