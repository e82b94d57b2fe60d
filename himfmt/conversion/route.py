"""Which conversions exist: the steps from one layout to another, or why there are none.

Conversion never pairs two layouts in code. Each layout declares what its
trees hold (:class:`~himfmt.layouts.Holds`: composites? instances? several
per sample? frames over time?), and a route is derived from those facts:
generic steps on the common model (frames to images, one sample per
instance, union of instance mattes, drop masks) plus the list of what each
step loses. Each rule below adds at most one step and its loss.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Callable, NamedTuple

import numpy as np

from himfmt.errors import HimfmtError
from himfmt.layouts import Holds, get_layout
from himfmt.model import DerivedRef, Frame, Instance, Sample


class Refusal(NamedTuple):
    """Why one layout cannot become another: ``kind`` names the missing fact, ``text`` says it."""

    kind: str
    text: str


def refusal(src: str, dst: str) -> Refusal | None:
    """Why ``src`` cannot become ``dst``, or None when it can."""
    s, d = get_layout(src).holds, get_layout(dst).holds
    if d.instances and not s.instances:
        return Refusal("mattes", f"{src} has no mattes, {dst} needs one per instance")
    if d.composites and not s.composites:
        return Refusal(
            "composites",
            f"{dst} needs composite images, {src} holds foregrounds only: compositing "
            "them onto backgrounds is synthesis (the compositing backend, himfmt synth), not conversion",
        )
    if d.video and not d.either and not s.video:
        return Refusal("clips", f"{dst} needs clips (frames over time), {src} holds still images")
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
        frames = [Frame(f.name, f.image, f.instances[k : k + 1], f.fg, f.bg, f.trimap) for f in sample.frames]
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
    frames = [replace(f, instances=[replace(i, masks={}) for i in f.instances]) for f in sample.frames]
    return [replace(sample, frames=frames)]


def backgrounds_only(sample: Sample) -> list[Sample]:
    """The clean background layer of each frame, as the picture (no person in it)."""
    frames = [Frame(f.name, f.bg) for f in sample.frames if f.bg is not None]
    if len(frames) != len(sample.frames):
        raise HimfmtError(
            f"sample {sample.split}/{sample.id} has no clean background layer; bg_images needs "
            "backgrounds without people, and its composite has people in it"
        )
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
    frames = [replace(f, fg=None, bg=None, instances=[replace(i, fg=None) for i in f.instances]) for f in sample.frames]
    return [replace(sample, frames=frames)]


class Loss(NamedTuple):
    """What one step changes; ``measured``: a conversion counts what it drops or re-encodes from its plan instead."""

    text: str
    step: Step | None = None
    measured: bool = False


@dataclass
class Route:
    src: str
    dst: str
    steps: list[Step] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)
    changed: Counter[Step] = field(default_factory=Counter)  # samples each step changed, as applied

    @property
    def lossy(self) -> list[str]:
        return [loss.text for loss in self.losses]

    def apply(self, sample: Sample) -> list[Sample]:
        samples = [sample]
        for step in self.steps:
            before = samples
            samples = [out for s in samples for out in step(s)]
            self.changed[step] += len(samples) if [id(s) for s in samples] != [id(s) for s in before] else 0
        return samples

    def add(self, step: Step | None, loss: str, measured: bool = False) -> None:
        if step is not None:
            self.steps.append(step)
        self.losses.append(Loss(loss, step, measured))


class Facts(NamedTuple):
    """What the route knows: both layouts' declarations and what the source tree has."""

    src: str
    dst: str
    s: Holds
    d: Holds
    frame_step: int
    has_masks: bool  # the source has guidance masks
    has_layers: bool  # the source's samples keep fg/bg layers
    premultiplied: bool  # its fg layer is stored multiplied by alpha (DVM's f/)


def _frames(r: Route, f: Facts) -> None:
    if f.s.video and not f.d.video and not f.d.either:
        which = "every frame" if f.frame_step <= 1 else f"every {f.frame_step}th frame"
        r.add(partial(frames_to_images, max(1, f.frame_step)), f"clips become images: {which} is a sample, temporal order is lost")


def _foreground(r: Route, f: Facts) -> None:
    if f.premultiplied and f.d.foregrounds:
        r.add(
            foreground_from_layer,
            "foregrounds are f/ divided by alpha (DVM stores them premultiplied): exact where "
            "alpha is high, noisier where it is low (JPEG); the composite v/ is not used",
        )


def _people(r: Route, f: Facts) -> None:
    if not f.d.instances and f.s.instances:
        r.add(backgrounds_only, "people dropped: each sample's clean background layer is the image", measured=True)
    elif f.s.multi and not f.d.multi and f.d.union:
        r.add(union_instances, "instance identity lost: the alpha is the union (sum, clipped to 255) of the instance mattes")
    elif f.s.multi and not f.d.multi:
        r.add(
            one_sample_per_instance,
            f"one {f.dst} sample per instance; its foreground is taken from the composite, an "
            "approximation of the true foreground in the soft edge band (other people stay in the picture)",
        )


def _masks(r: Route, f: Facts) -> None:
    if f.has_masks and not f.d.masks:
        r.add(drop_masks, f"guidance masks dropped: {f.dst} has no place for them", measured=True)
    elif f.d.needs_masks and not f.has_masks:
        r.add(
            None,
            f"the source has no guidance masks: the {f.dst} tree has no mask dirs, which its loader needs "
            "(it derives alpha > 127 masks only when no mask dir is configured)",
        )


def _layers(r: Route, f: Facts) -> None:
    if not (f.has_layers and f.d.instances):
        return
    if f.d.backgrounds:
        r.add(
            None,
            f"each clip's background layer becomes {f.dst}'s bg/<phase>/<id>.mp4 (H.264, lossy); "
            "image samples' background layers are dropped",
            measured=True,
        )
    elif not f.d.layers and f.premultiplied and f.d.foregrounds:  # f/ became the foreground above
        r.add(drop_layers, f"b/ (each frame's background) dropped: {f.dst} has no place for it", measured=True)
    elif not f.d.layers:
        r.add(
            drop_layers,
            f"fg and bg layers dropped ({'f/ and b/' if f.premultiplied else 'fg/ and bg/'}): {f.dst} has no place for them",
            measured=True,
        )


RULES: tuple[Callable[[Route, Facts], None], ...] = (_frames, _foreground, _people, _masks, _layers)


def route(src: str, dst: str, frame_step: int = 1, has_masks: bool = False, has_layers: bool = False, premultiplied: bool = False) -> Route:
    """The steps from ``src`` to ``dst`` and what they lose; HimfmtError if impossible."""
    why = refusal(src, dst)
    if why:
        raise HimfmtError(f"cannot convert {src} to {dst}: {why.text}")
    lay = get_layout(dst)
    facts = Facts(src, dst, get_layout(src).holds, lay.holds, frame_step, has_masks, has_layers, premultiplied)
    if not facts.d.instances and facts.s.instances and not has_layers:
        raise HimfmtError(
            f"cannot convert {src} to {dst}: {dst} holds clean backgrounds, and this {src} tree has no "
            "background layer (bg/, DVM's b/); its images have people in them"
        )
    r = Route(src, dst)
    for rule in RULES:
        rule(r, facts)
    if src != dst:
        r.losses += [Loss(text, measured=True) for text in lay.write_losses]  # a conversion measures these from its plan
    return r
