"""Which conversions exist: the steps from one layout to another, or why there are none.

Conversion never pairs two layouts in code. Each layout declares what its
trees hold (composites? instances? several per sample? frames over time?),
and a route is derived from those facts: generic steps on the common model
(frames to images, one sample per instance, union of instance mattes, drop
masks) plus the list of what each step loses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable, NamedTuple

import numpy as np

from .errors import HimfmtError
from .layouts import LAYOUTS
from .model import DerivedRef, Frame, Instance, Sample


class Holds(NamedTuple):
    composites: bool  # images/frames are composites a matting model trains on
    instances: bool  # has mattes at all
    multi: bool  # several instances per sample
    video: bool  # samples are clips (frames over time)
    masks: bool  # can store guidance masks
    either: bool = False  # holds image and video samples alike (dvm_source)
    layers: bool = False  # keeps foreground/background layers beside the composite (fg/, bg/; DVM's f/, b/)
    foregrounds: bool = False  # its pictures are people on their own (a source of people, not composites)
    backgrounds: bool = False  # keeps background clips of its own (DVM's bg/): a clip's bg layer goes there


HOLDS = {
    "maggie_image_train": Holds(True, True, True, False, True, layers=True),
    "maggie_image_val": Holds(True, True, True, False, True),
    "maggie_video": Holds(True, True, True, True, True),
    "dvm_composed": Holds(True, True, False, True, False, layers=True),
    "dvm_source": Holds(False, True, False, True, False, either=True, foregrounds=True, backgrounds=True),
    "hhm": Holds(True, True, False, False, False, foregrounds=True),
    "bg_images": Holds(True, False, False, False, False),
    "video_matte": Holds(False, True, False, True, False, foregrounds=True),
}
assert set(HOLDS) == set(LAYOUTS)


def refusal(src: str, dst: str) -> str | None:
    """Why ``src`` cannot become ``dst``, or None when it can."""
    s, d = HOLDS[src], HOLDS[dst]
    if d.instances and not s.instances:
        return f"{src} has no mattes, {dst} needs one per instance"
    if d.composites and not s.composites:
        return (f"{dst} needs composite images, {src} holds foregrounds only: compositing them onto "
                f"backgrounds is synthesis (the compositing backend, himfmt synth), not conversion")
    if d.video and not d.either and not s.video:
        return f"{dst} needs clips (frames over time), {src} holds still images"
    return None


def union_alpha(*mattes: np.ndarray) -> np.ndarray:
    """One matte for all instances: their sum, clipped to 255 (visible mattes partition alpha)."""
    total = np.zeros(mattes[0].shape, np.uint16)
    for m in mattes:
        total += m
    return np.minimum(total, 255).astype(np.uint8)


Step = Callable[[Sample], list[Sample]]


def frames_to_images(step: int, sample: Sample) -> list[Sample]:
    return [
        Sample(f"{sample.id}_{f.name}", sample.split, [Frame(f"{sample.id}_{f.name}", f.image, f.instances, f.fg, f.bg, f.trimap)])
        for f in sample.frames[::step]
    ]


def one_sample_per_instance(sample: Sample) -> list[Sample]:
    n = sample.n_instances
    if n <= 1:
        return [sample]
    out = []
    for k in range(n):
        frames = [Frame(f.name, f.image, f.instances[k:k + 1], f.fg, f.bg, f.trimap) for f in sample.frames]
        out.append(Sample(f"{sample.id}_{k:02d}", sample.split, frames, sample.is_clip))
    return out


def union_instances(sample: Sample) -> list[Sample]:
    frames = []
    for f in sample.frames:
        mattes = tuple(i.matte for i in f.instances if i.matte is not None)
        if len(mattes) <= 1:
            frames.append(f)
            continue
        inst = Instance("00", DerivedRef(union_alpha, mattes, (True,) * len(mattes)))
        frames.append(Frame(f.name, f.image, [inst], f.fg, f.bg, f.trimap))
    return [Sample(sample.id, sample.split, frames, sample.is_clip)]


def drop_masks(sample: Sample) -> list[Sample]:
    for f in sample.frames:
        f.instances = [Instance(i.name, i.matte, {}, i.fg) for i in f.instances]
    return [sample]


def drop_instances(sample: Sample) -> list[Sample]:
    return [Sample(sample.id, sample.split, [Frame(f.name, f.image) for f in sample.frames], sample.is_clip)]


def backgrounds_only(sample: Sample) -> list[Sample]:
    """The clean background layer of each frame, as the picture (no person in it)."""
    frames = [Frame(f.name, f.bg) for f in sample.frames if f.bg is not None]
    if len(frames) != len(sample.frames):
        raise HimfmtError(f"sample {sample.split}/{sample.id} has no clean background layer; bg_images needs "
                          "backgrounds without people, and its composite has people in it")
    return [Sample(sample.id, sample.split, frames, sample.is_clip)]


def unpremultiply(fg: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """F = f * 255 / a from a premultiplied foreground (black where alpha is 0), rounded."""
    a = alpha.astype(np.float32)[:, :, None]
    out = np.where(a > 0, fg.astype(np.float32) * 255.0 / np.maximum(a, 1.0), 0.0)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def foreground_from_layer(sample: Sample) -> list[Sample]:
    """The person's own colours as the picture: DVM's premultiplied f/ divided by the alpha (not the composite v/)."""
    frames = []
    for f in sample.frames:
        matte = f.instances[0].matte if f.instances else None
        image = DerivedRef(unpremultiply, (f.fg, matte), (False, True)) if f.fg is not None and matte is not None else f.image
        frames.append(Frame(f.name, image, f.instances, None, f.bg, f.trimap))
    return [Sample(sample.id, sample.split, frames, sample.is_clip)]


def drop_layers(sample: Sample) -> list[Sample]:
    for f in sample.frames:
        f.fg = f.bg = None
    return [sample]


@dataclass
class Route:
    src: str
    dst: str
    steps: list[Step] = field(default_factory=list)
    lossy: list[str] = field(default_factory=list)

    def apply(self, sample: Sample) -> list[Sample]:
        samples = [sample]
        for step in self.steps:
            samples = [out for s in samples for out in step(s)]
        return samples


def route(src: str, dst: str, frame_step: int = 1, has_masks: bool = False, has_layers: bool = False,
          premultiplied: bool = False) -> Route:
    """The steps from ``src`` to ``dst`` and what they lose; HimfmtError if impossible.

    ``has_layers``: the source's samples keep fg/bg layers; ``premultiplied``:
    its fg layer is stored multiplied by alpha (DVM's f/).
    """
    why = refusal(src, dst)
    if why:
        raise HimfmtError(f"cannot convert {src} to {dst}: {why}")
    s, d = HOLDS[src], HOLDS[dst]
    if not d.instances and s.instances and not has_layers:
        raise HimfmtError(f"cannot convert {src} to {dst}: {dst} holds clean backgrounds, and this {src} tree has no "
                          "background layer (bg/, DVM's b/); its images have people in them")
    r = Route(src, dst)
    if s.video and not d.video and not d.either:
        r.steps.append(partial(frames_to_images, max(1, frame_step)))
        which = "every frame" if frame_step <= 1 else f"every {frame_step}th frame"
        r.lossy.append(f"clips become images: {which} is a sample, temporal order is lost")
    if premultiplied and d.foregrounds:
        r.steps.append(foreground_from_layer)
        r.lossy.append("foregrounds are f/ divided by alpha (DVM stores them premultiplied): exact where alpha is "
                       "high, noisier where it is low (JPEG); the composite v/ is not used")
    if not d.instances and s.instances:
        r.steps.append(backgrounds_only)
        r.lossy.append("people dropped: each sample's clean background layer is the image")
    elif s.multi and not d.multi:
        if dst == "dvm_composed":
            r.steps.append(union_instances)
            r.lossy.append("instance identity lost: a/ is the union (sum, clipped to 255) of the instance mattes")
        else:
            r.steps.append(one_sample_per_instance)
            r.lossy.append(f"one {dst} sample per instance; its foreground is taken from the composite, "
                           "an approximation of the true foreground in the soft edge band (other people stay in the picture)")
    if has_masks and not d.masks:
        r.steps.append(drop_masks)
        r.lossy.append(f"guidance masks dropped: {dst} has no place for them")
    if dst == "maggie_image_val" and not has_masks:
        r.lossy.append("the source has no guidance masks: the val tree has no mask dirs, which MaGGIe's val "
                       "loader needs (it derives alpha > 127 masks only when no mask dir is configured)")
    if has_layers and d.instances and d.backgrounds:
        r.lossy.append(f"each clip's background layer becomes {dst}'s bg/<phase>/<id>.mp4 (H.264, lossy); "
                       "image samples' background layers are dropped")
    elif has_layers and d.instances and not d.layers:
        r.steps.append(drop_layers)
        if premultiplied and d.foregrounds:  # f/ became the foreground above
            r.lossy.append(f"b/ (each frame's background) dropped: {dst} has no place for it")
        else:
            r.lossy.append(f"fg and bg layers dropped ({'f/ and b/' if premultiplied else 'fg/ and bg/'}): "
                           f"{dst} has no place for them")
    if dst == "dvm_composed" and src != dst:
        r.lossy.append("alpha written as 3-channel JPEG, as DVM's loader reads it (png_alpha=true keeps a lossless copy)")
    if src == "dvm_composed":
        r.lossy.append("mattes come from DVM's JPEG alpha (noisy near 0 and 255) unless a_png/ is present")
    if dst == "dvm_source" and src != dst:
        r.lossy.append("video fgs: f.mp4 is H.264 CRF 18 (lossy), a.mp4 lossless; image fgs are PNG (lossless)")
    return r
