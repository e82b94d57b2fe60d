"""Clips drawn one frame at a time, so memory does not grow with clip length.

A video recipe decides everything random up front (which people, where they
go, the background window), then returns a :class:`~himfmt.model.Sample`
whose pictures are :class:`Rendered` references. Frame ``k`` is composited
when the writer first asks for one of its pictures and kept until another
frame is asked for; writers go through a clip frame by frame, so each frame
is composited once and only one frame is ever held.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import cv2
import numpy as np

from himfmt.model import ArrayRef, Frame, Instance, Sample
from himfmt.synthesis.composite import Canvas, clip_box, gray3, round255


class Layer(NamedTuple):
    """One person in one frame: colour, matte, and where its top-left corner goes."""

    fg: np.ndarray
    alpha: np.ndarray
    x: int
    y: int


@dataclass
class LayerClip:
    """Frame ``k`` = ``background(k)`` with ``people(k)`` pasted in order (later ones in front).

    Each frame gives ``image``, ``bg``, one visible matte per person
    (``matte0``...) and, when ``premultiplied`` is set, each person's
    foreground multiplied by its visible matte (``fg0``..., DVM's ``f``).
    """

    n_frames: int
    width: int
    height: int
    n_people: int
    background: Callable[[int], np.ndarray]
    people: Callable[[int], list[Layer]]
    premultiplied: bool = False

    def __post_init__(self) -> None:
        self._frame = -1
        self._parts: dict[str, np.ndarray] = {}

    def part(self, k: int, key: str) -> np.ndarray:
        if k != self._frame:
            self._parts = {}  # drop the previous frame before making the next
            self._parts = self.render(k)
            self._frame = k
        return self._parts[key]

    def render(self, k: int) -> dict[str, np.ndarray]:
        bg = self.background(k)
        canvas = Canvas(bg)
        layers = self.people(k)
        for layer in layers:
            canvas.paste(layer.fg, layer.alpha, layer.x, layer.y)
        parts = {"image": canvas.image, "bg": bg}
        for j, matte in enumerate(canvas.mattes):
            parts[f"matte{j}"] = matte
            if self.premultiplied:
                parts[f"fg{j}"] = premultiply(layers[j], matte)
        return parts

    def sample(self, sid: str, with_bg: bool = False) -> Sample:
        """The clip as a sample of lazily rendered frames named ``00000``..."""
        size = (self.width, self.height)
        frames = []
        for k in range(self.n_frames):
            insts = [
                Instance(
                    f"{j:02d}", Rendered(self, k, f"matte{j}", size), fg=Rendered(self, k, f"fg{j}", size) if self.premultiplied else None
                )
                for j in range(self.n_people)
            ]
            frames.append(
                Frame(
                    f"{k:05d}",
                    Rendered(self, k, "image", size),
                    insts,
                    fg=insts[0].fg if self.premultiplied and self.n_people == 1 else None,
                    bg=Rendered(self, k, "bg", size) if with_bg else None,
                )
            )
        return Sample(sid, "", frames, is_clip=True)


def premultiply(layer: Layer, matte: np.ndarray) -> np.ndarray:
    """``round(F * a / 255)`` on the whole frame (black where the person is not visible)."""
    h, w = matte.shape
    out = np.zeros((h, w, 3), np.uint8)
    box = clip_box(layer.x, layer.y, layer.alpha.shape[1], layer.alpha.shape[0], w, h)
    if box is not None:
        ry, rx, ly, lx = box
        out[ry, rx] = round255(cv2.multiply(layer.fg[ly, lx], gray3(matte[ry, rx]), dtype=cv2.CV_16U))
    return out


class Rendered(NamedTuple):
    """Picture ``key`` of frame ``k`` of a clip being made (a :class:`~himfmt.model.Media`)."""

    clip: LayerClip
    k: int
    key: str
    dims: tuple[int, int]

    @property
    def suffix(self) -> str:
        return ""

    @property
    def where(self) -> str:
        return f"<frame {self.k} being made>"

    def size(self) -> tuple[int, int]:
        return self.dims

    def read_rgb(self) -> np.ndarray:
        return ArrayRef(self.clip.part(self.k, self.key)).read_rgb()

    def read_gray(self) -> np.ndarray:
        return ArrayRef(self.clip.part(self.k, self.key)).read_gray()
