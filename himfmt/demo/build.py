"""Build the demo data root from the procedural kit, through the layout writers.

Source trees (``hhm``, ``bg_images``, ``video_matte``) are written first; the
MaGGIe trees are composited from the same assets, so every layout of the
common model is exercised on real JPEG/PNG files.
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


def compose_clip(seed: int, idx: int, n_people: int, n_frames: int, split: str, masks: tuple[str, ...]) -> Sample:
    """People walking over a still background: one matte per person per frame."""
    rng = _rng(seed, 2, idx)
    bg = kit.background(rng, WIDTH, HEIGHT)
    walkers = [kit.clip_frames(_rng(seed, 3, idx, k), n_frames, WIDTH, HEIGHT) for k in range(n_people)]
    frames = []
    for f in range(n_frames):
        canvas = Canvas(bg)
        for w in walkers:
            fg, a = w[f]
            canvas.paste(fg, a, 0, 0)
        name = f"{f:05d}"
        insts = [
            Instance(f"{k:02d}", ArrayRef(m), {s: ArrayRef(threshold_mask(m)) for s in masks})
            for k, m in enumerate(canvas.mattes)
        ]
        frames.append(Frame(name, ArrayRef(canvas.image), insts))
    return Sample(f"{idx:05d}", split, frames, is_clip=True)


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


def dvm_composed(seed: int) -> list[Sample]:
    """Each image fg centred over a panning background, as DVM's v/a/f/b streams."""
    samples = []
    for k, name in enumerate(DVM_IMAGE_FGS):
        fg, a = _dvm_image_fg(seed, k)
        bg = kit.background(_rng(seed, 10, k), WIDTH + 20, HEIGHT)
        frames = []
        for i in range(10):
            canvas = Canvas(np.ascontiguousarray(bg[:, i: i + WIDTH]))
            x, y = (WIDTH - fg.shape[1]) // 2 + 2 * i, HEIGHT - fg.shape[0]
            canvas.paste(fg, a, x, y)
            layer = Canvas(np.zeros_like(canvas.image))
            layer.paste(fg, a, x, y)  # premultiplied fg: F * alpha over black
            frames.append(Frame(f"{i:05d}", ArrayRef(canvas.image), [Instance("00", ArrayRef(canvas.mattes[0]))],
                                fg=ArrayRef(layer.image), bg=ArrayRef(np.ascontiguousarray(bg[:, i: i + WIDTH]))))
        samples.append(Sample(f"image_{name.rsplit('.', 1)[0]}_{k:04d}", "all", frames, is_clip=True))
    return samples


def build(out: Path, seed: int = 0, progress: Callable[[str], None] = lambda s: None) -> dict[str, Path]:
    """Write the demo data root into ``out``; returns tree name -> path."""
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

    train = [image_sample(f"{i:05d}", "I-HIM50K", *compose_image(seed, i, 2 + i % 3), ()) for i in range(8)]
    emit("I-HIM50K", "maggie_image_train", train, "data")
    val = [
        image_sample(f"{split}_{i:03d}", split, *compose_image(seed, 100 + 10 * j + i, 2 + i % 2), MASK_SOURCES)
        for j, split in enumerate(("natural", "comp"))
        for i in range(3)
    ]
    emit("HIM2K_M-HIM2K", "maggie_image_val", val, "data/HIM2K_M-HIM2K")
    vtrain = [compose_clip(seed, i, 2, 10, "V-HIM2K5", ()) for i in range(2)]
    emit("V-HIM2K5", "maggie_video", vtrain, "data")
    vval = [compose_clip(seed, 10 + i, 2 + i, 10, "comp_easy", ("xmem",)) for i in range(2)]
    emit("V-HIM60", "maggie_video", vval, "data/V-HIM60")
    progress("DVM")
    dvm_source(out / "sources/DVM", seed)
    made["dvm_source"] = out / "sources/DVM"
    emit("dvm_composed", "dvm_composed", dvm_composed(seed), "data/DVM_composed", opts=WriteOptions(png_alpha=True, trimap=(3, 5)))
    made["I-HIM50K"] = out / "data/I-HIM50K"
    made["V-HIM2K5"] = out / "data/V-HIM2K5"
    return made
