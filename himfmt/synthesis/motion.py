"""DVM's random walk (recipe C, step 6) and the per-frame rotate-and-zoom.

The walk is drawn up front as a list of poses, so frame ``k`` can be made
from ``poses[k]`` alone: nothing carries state between frames while writing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from himfmt.synthesis.clip import Layer


@dataclass
class WalkParams:
    """Published values (DVM's composite generator)."""

    speed_min: float = 0.5  # px per frame
    speed_max: float = 2.0
    spin_max: float = 1.0  # degrees per frame, drawn in [-spin_max, spin_max]
    zoom_speed_max: float = 0.015  # per frame
    zoom_start: float = 0.9
    zoom_min: float = 0.9
    zoom_max: float = 1.1
    angle_max: float = 60.0  # the spin reverses beyond +-angle_max degrees
    box: float = 0.05  # the centre bounces off [box, 1 - box] of the frame
    redraw: int = 20  # velocity, spin and zoom speed are drawn again every this many frames


class Pose(NamedTuple):
    x: float  # centre, canvas pixels
    y: float
    angle: float  # degrees, counter-clockwise
    zoom: float


def _bounce(v: float, speed: float, lo: float, hi: float) -> tuple[float, float]:
    """Reflect position ``v`` off [lo, hi]; returns (position, velocity)."""
    if v < lo:
        v, speed = 2 * lo - v, abs(speed)
    elif v > hi:
        v, speed = 2 * hi - v, -abs(speed)
    return min(max(v, lo), hi), speed


def random_walk(
    rng: np.random.Generator, n: int, width: int, height: int, p: WalkParams, start: tuple[float, float] | None = None
) -> list[Pose]:
    """``n`` poses from ``start`` (default the centre), angle 0, zoom ``zoom_start``."""
    x, y = start if start is not None else ((width - 1) / 2, (height - 1) / 2)
    x0, x1 = p.box * (width - 1), (1 - p.box) * (width - 1)
    y0, y1 = p.box * (height - 1), (1 - p.box) * (height - 1)
    angle, zoom = 0.0, p.zoom_start
    vx = vy = spin = zoom_speed = 0.0
    poses = []
    for t in range(n):
        if t % p.redraw == 0:
            direction = rng.uniform(0, 2 * math.pi)
            speed = rng.uniform(p.speed_min, p.speed_max)
            vx, vy = speed * math.cos(direction), speed * math.sin(direction)
            spin = rng.uniform(-p.spin_max, p.spin_max)
            zoom_speed = rng.uniform(-p.zoom_speed_max, p.zoom_speed_max)
        poses.append(Pose(x, y, angle, zoom))
        x, vx = _bounce(x + vx, vx, x0, x1)
        y, vy = _bounce(y + vy, vy, y0, y1)
        angle += spin
        if abs(angle) > p.angle_max:
            spin = -spin
        zoom = min(max(zoom + zoom_speed, p.zoom_min), p.zoom_max)
    return poses


def alpha_box(alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of ``alpha > 0``, or None when the matte is empty."""
    ys, xs = np.nonzero(alpha.max(axis=1)), np.nonzero(alpha.max(axis=0))
    if not ys[0].size:
        return None
    return int(xs[0][0]), int(ys[0][0]), int(xs[0][-1]) + 1, int(ys[0][-1]) + 1


def posed(fg: np.ndarray, alpha: np.ndarray, box: tuple[int, int, int, int], pose: Pose) -> Layer:
    """fg and alpha rotated and centre-zoomed by ``pose``, centred on its position.

    The whole picture turns about its centre on a canvas grown to the rotated
    bounds, as DVM does, but only the part where ``box`` (the alpha > 0 box)
    lands is computed: the rest of that canvas has zero alpha. Colour is
    extended at the borders and alpha is zero there, so no black fringe
    bleeds into the person's edge.
    """
    h, w = alpha.shape
    rad = math.radians(pose.angle)
    c, s = abs(math.cos(rad)) * pose.zoom, abs(math.sin(rad)) * pose.zoom
    nw, nh = max(1, math.ceil(w * c + h * s)), max(1, math.ceil(w * s + h * c))
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), pose.angle, pose.zoom)
    m[0, 2] += (nw - w) / 2
    m[1, 2] += (nh - h) / 2
    x0, y0, x1, y1 = box
    corners = np.array([[x0 - 1, y0 - 1, 1], [x1, y0 - 1, 1], [x0 - 1, y1, 1], [x1, y1, 1]], np.float64) @ m.T
    bx0, by0 = (max(0, math.floor(v)) for v in corners.min(axis=0))
    bx1, by1 = min(nw, math.ceil(corners[:, 0].max()) + 1), min(nh, math.ceil(corners[:, 1].max()) + 1)
    m[0, 2] -= bx0
    m[1, 2] -= by0
    size = (max(1, bx1 - bx0), max(1, by1 - by0))
    out_fg = cv2.warpAffine(fg, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    out_a = cv2.warpAffine(alpha, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    left, top = round(pose.x - (nw - 1) / 2), round(pose.y - (nh - 1) / 2)
    return Layer(out_fg, out_a, left + bx0, top + by0)
