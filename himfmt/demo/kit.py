"""Procedural assets: person-like foregrounds with soft mattes, backgrounds, clips.

Everything is drawn from a seeded numpy Generator, so the demo data is the
same on every machine. People are unions of capsules (head, torso, limbs)
rendered from a signed distance field with a soft edge, plus thin
anti-aliased hair strands, so their mattes have real soft boundaries and fine
structure like real human mattes.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from himfmt.synthesis.composite import clip_box

SKIN = np.array([[224, 172, 140], [198, 134, 102], [141, 85, 60], [245, 205, 180]], np.float32)
HAIR = np.array([[40, 28, 20], [90, 60, 30], [20, 20, 22], [160, 120, 70]], np.float32)


def _capsule(px: np.ndarray, py: np.ndarray, a: tuple[float, float], b: tuple[float, float], r: float) -> np.ndarray:
    bax, bay = b[0] - a[0], b[1] - a[1]
    pax, pay = px - a[0], py - a[1]
    h = np.clip((pax * bax + pay * bay) / max(bax * bax + bay * bay, 1e-6), 0.0, 1.0)
    return np.hypot(pax - bax * h, pay - bay * h) - r


def person(rng: np.random.Generator, height: int, phase: float = 0.0, cap: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """An RGB foreground and its 8-bit matte, ``height`` pixels tall; ``phase`` swings the limbs.

    ``cap``: the top of the head is hair of the strands' colour, as on a real
    head, so strands grow out of hair rather than out of skin.
    """
    h = int(height)
    w = max(8, int(h * 0.62))
    py, px = np.mgrid[0:h, 0:w].astype(np.float32)
    cx = w / 2
    u = h / 100.0  # one body unit
    swing = math.sin(phase) * 0.35
    shoulder, hip = 24 * u, 55 * u
    parts = {
        "head": _capsule(px, py, (cx, 12 * u), (cx, 14 * u), 8.5 * u),
        "neck": _capsule(px, py, (cx, 18 * u), (cx, 24 * u), 3.0 * u),
        "torso": _capsule(px, py, (cx, shoulder + 4 * u), (cx, hip - 4 * u), 11 * u),
    }
    for side in (-1, 1):
        sx = cx + side * 10 * u
        ang = side * (0.25 + swing * side)
        elbow = (sx + math.sin(ang) * 16 * u, shoulder + math.cos(ang) * 16 * u)
        hand = (elbow[0] + math.sin(ang * 0.5) * 15 * u, elbow[1] + 15 * u)
        parts[f"arm{side}"] = np.minimum(_capsule(px, py, (sx, shoulder + 2 * u), elbow, 3.6 * u), _capsule(px, py, elbow, hand, 3.0 * u))
        lx = cx + side * 5 * u
        lang = side * swing * 0.6
        foot = (lx + math.sin(lang) * 42 * u, hip + math.cos(lang) * 42 * u)
        parts[f"leg{side}"] = _capsule(px, py, (lx, hip), foot, 5.0 * u)
    names = list(parts)
    sdf = np.stack([parts[n] for n in names])
    label = np.argmin(sdf, axis=0)
    dist = np.min(sdf, axis=0)
    body = np.clip(0.5 - dist / 1.5, 0.0, 1.0)

    skin, hair_c = SKIN[rng.integers(len(SKIN))], HAIR[rng.integers(len(HAIR))]
    shirt = rng.uniform(30, 230, 3).astype(np.float32)
    pants = rng.uniform(20, 140, 3).astype(np.float32)
    colors = {"head": skin, "neck": skin, "torso": shirt}
    for side in (-1, 1):
        colors[f"arm{side}"] = shirt * 0.9
        colors[f"leg{side}"] = pants
    palette = np.stack([colors[n] for n in names])
    rgb = palette[label]
    stripes = 0.85 + 0.15 * np.sin(py / (2.5 * u + 1) + rng.uniform(0, 6.28))
    rgb *= stripes[:, :, None]
    rgb += rng.normal(0, 6, rgb.shape).astype(np.float32)

    # Hair: many thin anti-aliased strands around the head give a fine soft matte.
    hair = np.zeros((h, w), np.uint8)
    n_strands = 40 + int(rng.integers(0, 40))
    for _ in range(n_strands):
        t = rng.uniform(-math.pi * 0.95, -math.pi * 0.05)
        r0 = 8.5 * u
        x0, y0 = cx + math.cos(t) * r0 * 0.8, 13 * u + math.sin(t) * r0 * 0.8
        length = rng.uniform(4, 12) * u
        bend = rng.uniform(-0.6, 0.6)
        pts = []
        for k in range(6):
            s = k / 5
            ang = t + bend * s
            pts.append((x0 + math.cos(ang) * length * s, y0 + math.sin(ang) * length * s + s * s * 4 * u))
        poly = np.array(pts, np.float32) * 16
        level = int(rng.integers(90, 230))
        cv2.polylines(hair, [poly.astype(np.int32)], False, level, 1, cv2.LINE_AA, shift=4)
    hair_a = hair.astype(np.float32) / 255.0
    alpha = np.maximum(body, hair_a)
    hair_w = np.where(hair_a > body, 1.0, 0.0)
    if cap:
        hair_w[(label == names.index("head")) & (py < 13 * u)] = 1.0
    hair_w = hair_w[:, :, None]
    rgb = rgb * (1 - hair_w) + hair_c * hair_w
    fg = np.clip(rgb, 0, 255).astype(np.uint8)
    matte = np.clip(np.rint(alpha * 255), 0, 255).astype(np.uint8)
    return fg, matte


def background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A textured scene: sky gradient, ground, block buildings with windows, grain."""
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    top, bottom = rng.uniform(60, 230, 3), rng.uniform(40, 200, 3)
    img = np.broadcast_to(top * (1 - y) + bottom * y, (height, width, 3)).copy()
    horizon = int(height * rng.uniform(0.55, 0.75))
    img[horizon:] = rng.uniform(50, 160, 3)
    for _ in range(int(rng.integers(3, 8))):
        bw, bh = int(rng.integers(width // 10, width // 4)), int(rng.integers(height // 6, height // 2))
        x0 = int(rng.integers(0, max(1, width - bw)))
        color = rng.uniform(40, 220, 3)
        img[horizon - bh : horizon, x0 : x0 + bw] = color
        for wy in range(horizon - bh + 4, horizon - 6, 9):
            for wx in range(x0 + 4, x0 + bw - 6, 9):
                img[wy : wy + 4, wx : wx + 4] = color * 0.5 + 100
    low = rng.normal(0, 18, (max(2, height // 32), max(2, width // 32), 3)).astype(np.float32)
    img += cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC)
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def clip_frames(rng: np.random.Generator, n_frames: int, width: int, height: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """A walking person on a plain canvas: per frame the fg (RGB) and its matte."""
    ph = int(height * rng.uniform(0.7, 0.95))
    speed = rng.uniform(1.5, 4.0) * rng.choice([-1, 1])
    x = rng.uniform(0.2, 0.5) * width
    seed = int(rng.integers(1 << 31))
    out = []
    for f in range(n_frames):
        fg, alpha = person(np.random.default_rng(seed), ph, phase=f * 0.5)
        canvas_fg = np.full((height, width, 3), 128, np.uint8)
        canvas_a = np.zeros((height, width), np.uint8)
        px = int(x + speed * f) - fg.shape[1] // 2
        py = height - fg.shape[0]
        box = clip_box(px, py, fg.shape[1], fg.shape[0], width, height)
        if box is not None:
            ry, rx, ly, lx = box
            canvas_fg[ry, rx] = fg[ly, lx]
            canvas_a[ry, rx] = alpha[ly, lx]
        out.append((canvas_fg, canvas_a))
    return out


def busy(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Saturated colour patches crossed by thin stripes: a photo background that shows every colour fringe."""
    cells = np.stack(
        [
            rng.uniform(0, 180, (max(2, height // 24), max(2, width // 24))),
            np.full((max(2, height // 24), max(2, width // 24)), 255.0),
            rng.uniform(160, 255, (max(2, height // 24), max(2, width // 24))),
        ],
        axis=2,
    ).astype(np.uint8)
    img = cv2.cvtColor(cv2.resize(cells, (width, height), interpolation=cv2.INTER_NEAREST), cv2.COLOR_HSV2RGB)
    for x in range(int(rng.integers(0, 7)), width, 7):
        img[:, x] = rng.integers(0, 256, 3)
    return img
