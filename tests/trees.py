"""Small real dataset trees for tests: actual JPEG and PNG files, written with OpenCV/Pillow."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from himfmt.demo import kit
from himfmt.io.files import OutDir
from himfmt.io.video import VideoWriter
from himfmt.layouts import get_layout
from himfmt.layouts.writer import write_samples
from himfmt.model import ArrayRef, Frame, Instance, Sample

W, H = 48, 32


def rgb(seed: int = 0, w: int = W, h: int = H) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def smooth(seed: int = 0, w: int = W, h: int = H) -> np.ndarray:
    """A picture without fine detail (coarse noise enlarged): frames cut from it at nearby places look alike."""
    return cv2.resize(rgb(seed, max(2, w // 8), max(2, h // 8)), (w, h), interpolation=cv2.INTER_CUBIC)


def matte(seed: int = 0, w: int = W, h: int = H) -> np.ndarray:
    """A soft blob: opaque core, soft edge, zero elsewhere."""
    rng = np.random.default_rng(seed)
    cy, cx = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w
    yy, xx = np.mgrid[0:h, 0:w]
    d = np.hypot(yy - cy, xx - cx)
    return np.clip((h * 0.35 - d) * 40, 0, 255).astype(np.uint8)


def instance_matte(k: int, n: int, seed: int = 0, w: int = W, h: int = H) -> np.ndarray:
    """Instance k of n: a soft blob inside its own vertical band, so instances never overlap."""
    band = w / n
    cx = band * (k + 0.5) + np.random.default_rng(seed).uniform(-0.1, 0.1) * band
    yy, xx = np.mgrid[0:h, 0:w]
    d = np.hypot((yy - h / 2) / 2.5, xx - cx)
    core = np.clip((band * 0.4 - d) * 80, 0, 255)
    return core.astype(np.uint8)


def save(path: Path, arr: np.ndarray, **kw: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, **kw)
    return path


def train_tree(
    root: Path,
    split: str = "I-HIM50K",
    stems: tuple[str, ...] = ("a", "b"),
    n_inst: int = 2,
    alpha_dir: str = "alphas",
    names: list[str] | None = None,
    masks: tuple[str, ...] = (),
    layers: bool = False,
) -> Path:
    """``root/<split>/images/<stem>.jpg`` + ``<alpha_dir>/<stem>/NN.png`` (+ mask dirs, + ``bg/<stem>.jpg`` layers)."""
    names = names or [f"{k:02d}.png" for k in range(n_inst)]
    for i, s in enumerate(stems):
        save(root / split / "images" / f"{s}.jpg", rgb(i))
        if layers:
            save(root / split / "bg" / f"{s}.jpg", rgb(100 + i))
        for k, n in enumerate(names):
            a = instance_matte(k, len(names), i)
            save(root / split / alpha_dir / s / n, a)
            for m in masks:
                save(root / split / m / s / n, np.where(a > 127, 255, 0).astype(np.uint8))
    return root


def val_tree(root: Path, splits: tuple[str, ...] = ("natural", "comp"), masks: tuple[str, ...] = ("masks_matched_r50_fpn_3x",)) -> Path:
    for j, split in enumerate(splits):
        for i, s in enumerate(("x", "y")):
            save(root / "images" / split / f"{s}.jpg", rgb(j * 10 + i))
            for k in range(2):
                m = instance_matte(k, 2, j * 10 + i)
                save(root / "alphas" / split / s / f"{k:02d}.png", m)
                for src in masks:
                    save(root / src / split / s / f"{k:02d}.png", np.where(m > 127, 255, 0).astype(np.uint8))
    return root


def video_tree(
    root: Path,
    split: str = "V-HIM2K5",
    videos: tuple[str, ...] = ("v0",),
    n_frames: int = 3,
    n_inst: int = 2,
    masks: tuple[str, ...] = (),
    frame_names: list[str] | None = None,
) -> Path:
    frame_names = frame_names or [f"{f:05d}" for f in range(n_frames)]
    for v, video in enumerate(videos):
        for f, fname in enumerate(frame_names):
            save(root / split / "fgr" / video / f"{fname}.jpg", rgb(v * 100 + f))
            for k in range(n_inst):
                m = instance_matte(k, n_inst, v * 100 + f)
                save(root / split / "pha" / video / fname / f"{k:02d}.png", m)
                for src in masks:
                    save(root / split / src / video / fname / f"{k:02d}.png", np.where(m > 127, 255, 0).astype(np.uint8))
    return root


def hhm_tree(root: Path, stems: tuple[str, ...] = ("p0", "p1", "p2"), skip: tuple[str, ...] = ()) -> Path:
    for i, s in enumerate(stems):
        save(root / "images" / f"{s}.jpg", rgb(i))
        save(root / "alphas" / f"{s}.png", matte(i))
    if skip:
        (root / "invalid_him.txt").write_text("".join(f"{n}\n" for n in skip))
    return root


def bg_tree(root: Path, n: int = 3) -> Path:
    for i in range(n):
        save(root / f"h_{i:08x}.jpg", rgb(50 + i, 64, 48))
    return root


def video_matte_tree(root: Path, clips: tuple[str, ...] = ("0000", "0001"), n_frames: int = 3, rgba: bool = False) -> Path:
    for c, clip in enumerate(clips):
        for f in range(n_frames):
            color, a = rgb(c * 10 + f), matte(c * 10 + f)
            if rgba:
                save(root / "fgr" / clip / f"{f:05d}.png", np.dstack([color, a]))
            else:
                save(root / "fgr" / clip / f"{f:05d}.jpg", color)
                save(root / "pha" / clip / f"{f:05d}.jpg", a)
    return root


def alphas(n: int, w: int = 64, h: int = 48) -> list[np.ndarray]:
    return [np.roll(matte(i, w, h), 2 * i, axis=1) for i in range(n)]


def write_mp4(path: Path, frames: list[np.ndarray], gray: bool) -> Path:
    h, w = frames[0].shape[:2]
    with video_writer(path, w, h, alpha=gray) as vw:
        for f in frames:
            vw.write(f)
    return path


def dvm_source_tree(root: Path, fg_names=("retriever-348572_1920 (1).png", "plain.png"), n_frames: int = 5) -> Path:
    base = root / "fg" / "image" / "test"
    for i, name in enumerate(fg_names):
        save(base / "fg" / name, rgb(i))
        save(base / "alpha" / name, matte(i))
    clip = root / "fg" / "video" / "test" / "0000"
    write_mp4(clip / "f.mp4", [rgb(i, 64, 48) for i in range(n_frames)], False)
    write_mp4(clip / "a.mp4", alphas(n_frames), True)
    for b in range(2):
        write_mp4(root / "bg" / "test" / f"{b:04d}.mp4", [rgb(10 + i, 64, 48) for i in range(n_frames)], False)
    (root / "test_pairs.txt").write_text(f"image+{fg_names[0]}+0000.mp4\nvideo+0000+0001.mp4\n")
    return root


def composed_samples(n_frames: int = 4) -> list[Sample]:
    out = []
    for k, seq in enumerate(["image_retriever-348572_1920 (1)_0000", "video_0000_0001"]):
        frames = []
        for i in range(n_frames):
            a = matte(k * 10 + i)
            fg = rgb(k * 10 + i)
            pre = (fg.astype(np.uint16) * a[..., None] // 255).astype(np.uint8)
            frames.append(
                Frame(f"{i:05d}", ArrayRef(rgb(50 + i)), [Instance("00", ArrayRef(a))], fg=ArrayRef(pre), bg=ArrayRef(rgb(90 + i)))
            )
        out.append(Sample(seq, "all", frames, is_clip=True))
    return out


def generic_samples(layout: str, splits: tuple[str, ...] = ("s1",), ids: tuple[str, ...] = ("a", "b")) -> list[Sample]:
    """Samples any layout can hold, shaped by what it declares it holds (for layouts with no hand-made tree)."""
    holds = get_layout(layout).holds
    n_inst = 2 if holds.multi else int(holds.instances)
    out = []
    for s, split in enumerate(splits):
        for i, sid in enumerate(ids):
            seed = 100 * s + 10 * i
            frames = []
            for f in range(8 if holds.video else 1):
                insts = []
                for k in range(n_inst):
                    a = instance_matte(k, n_inst, seed + f)
                    insts.append(
                        Instance(
                            f"{k:02d}", ArrayRef(a), {"masks": ArrayRef(np.where(a > 127, 255, 0).astype(np.uint8))} if holds.masks else {}
                        )
                    )
                frames.append(Frame(f"{f:05d}" if holds.video else sid, ArrayRef(rgb(seed + f)), insts))
            out.append(Sample(sid, split, frames, is_clip=holds.video))
    return out


def generic_tree(layout: str, root: Path, splits: tuple[str, ...] = ("s1",)) -> Path:
    write_samples(layout, generic_samples(layout, splits), root)
    return root


# Hand-made trees of the built-in layouts (written without himfmt's writers, so readers are tested on their own).
HAND_MADE = {
    "maggie_image_train": lambda r: train_tree(r, "I-HIM50K", masks=("masks",), layers=True),
    "maggie_image_val": lambda r: val_tree(r),
    "maggie_video": lambda r: video_tree(r, "comp_easy", n_frames=8, masks=("xmem",)),
    "dvm_source": lambda r: dvm_source_tree(r, n_frames=8),
    "hhm": hhm_tree,
    "bg_images": bg_tree,
    "video_matte": lambda r: video_matte_tree(r, n_frames=8),
    "dvm_composed": lambda r: write_samples("dvm_composed", composed_samples(8), r) and r,
}


def example(layout: str, root: Path) -> Path:
    """A small clean tree of ``layout``: hand-made for a built-in, else shaped by what the layout holds."""
    return HAND_MADE.get(layout, lambda r: generic_tree(layout, r))(root)


def video_writer(path: str | os.PathLike[str], width: int, height: int, fps: float = 25.0, alpha: bool = False) -> VideoWriter:
    """himfmt's video writer for one file at ``path`` (outside any output himfmt manages)."""
    path = os.path.abspath(path)
    return VideoWriter(OutDir.at(os.path.dirname(path), register=False), os.path.basename(path), width, height, fps, alpha)


def photographed(rng: np.random.Generator, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(photo, matte, true foreground) of a person shot in front of a busy background.

    The photo is ``a*F + (1-a)*B`` rounded, as a camera sees a soft edge, so
    its soft pixels carry the old background: the known truth for measuring
    foreground estimation.
    """
    fg, matte = kit.person(rng, height, cap=True)
    bg = kit.busy(rng, fg.shape[1], fg.shape[0])
    a = matte.astype(np.uint32)[:, :, None]
    photo = ((a * fg + (255 - a) * bg + 127) // 255).astype(np.uint8)
    return photo, matte, fg
