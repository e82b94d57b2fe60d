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


HOLDS = {
    "maggie_image_train": Holds(True, True, True, False, True),
    "maggie_image_val": Holds(True, True, True, False, True),
    "maggie_video": Holds(True, True, True, True, True),
    "dvm_composed": Holds(True, True, False, True, False),
    "dvm_source": Holds(False, True, False, True, False, either=True),
    "hhm": Holds(True, True, False, False, False),
    "bg_images": Holds(True, False, False, False, False),
    "video_matte": Holds(False, True, False, True, False),
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


def route(src: str, dst: str, frame_step: int = 1, has_masks: bool = False) -> Route:
    """The steps from ``src`` to ``dst`` and what they lose; HimfmtError if impossible."""
    why = refusal(src, dst)
    if why:
        raise HimfmtError(f"cannot convert {src} to {dst}: {why}")
    s, d = HOLDS[src], HOLDS[dst]
    r = Route(src, dst)
    if s.video and not d.video and not d.either:
        r.steps.append(partial(frames_to_images, max(1, frame_step)))
        which = "every frame" if frame_step <= 1 else f"every {frame_step}th frame"
        r.lossy.append(f"clips become images: {which} is a sample, temporal order is lost")
    if not d.instances and s.instances:
        r.steps.append(drop_instances)
        r.lossy.append("mattes dropped: the target holds images only")
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
    if src == "dvm_composed" and dst != "dvm_composed":
        r.steps.append(drop_layers)
        r.lossy.append("f/ (premultiplied foreground) and b/ (background) streams dropped: the target has no place for them")
    if dst == "dvm_composed" and src != dst:
        r.lossy.append("alpha written as 3-channel JPEG, as DVM's loader reads it (png_alpha=true keeps a lossless copy)")
    if src == "dvm_composed":
        r.lossy.append("mattes come from DVM's JPEG alpha (noisy near 0 and 255) unless a_png/ is present")
    if dst == "dvm_source" and src != dst:
        r.lossy.append("video fgs: f.mp4 is H.264 CRF 18 (lossy), a.mp4 lossless; image fgs are PNG (lossless)")
    return r
