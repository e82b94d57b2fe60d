"""The integer compositing kernel against an independent float computation."""

from __future__ import annotations

import numpy as np

from himfmt.synthesis.composite import Canvas, div255, round255


def test_div255_is_exact_rounding():
    x = np.arange(0, 255 * 255 + 1, dtype=np.uint32)
    assert np.array_equal(div255(x), np.floor(x / 255 + 0.5).astype(np.uint32))
    # Values x 255 of 8-bit data (<= 255 * 255) stay exact in uint16, the canvas's type,
    # and OpenCV's scaled conversion rounds them exactly too.
    assert np.array_equal(div255(x.astype(np.uint16)), div255(x))
    assert np.array_equal(round255(x[:-1].astype(np.uint16).reshape(255, 255)).ravel(), div255(x[:-1]))
    assert round255(np.array([[255 * 255]], np.uint16))[0, 0] == 255


def test_canvas_occlusion_keeps_visible_mattes():
    rng = np.random.default_rng(1)
    canvas = Canvas(np.zeros((40, 60, 3), np.uint8))
    layers = []
    for k in range(3):
        fg = rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)
        a = rng.integers(0, 256, (30, 30), dtype=np.uint8)
        a[:5] = 255
        layers.append((fg, a, 10 * k - 5, 5 * k))
        canvas.paste(fg, a, 10 * k - 5, 5 * k)
    # Independent float reference, layer over layer.
    img = np.zeros((40, 60, 3))
    vis = [np.zeros((40, 60)) for _ in layers]
    for k, (fg, a, x, y) in enumerate(layers):
        full_a, full_f = np.zeros((40, 60)), np.zeros((40, 60, 3))
        ys, xs = slice(max(y, 0), min(y + 30, 40)), slice(max(x, 0), min(x + 30, 60))
        full_a[ys, xs] = a[ys.start - y : ys.stop - y, xs.start - x : xs.stop - x] / 255
        full_f[ys, xs] = fg[ys.start - y : ys.stop - y, xs.start - x : xs.stop - x]
        img = full_a[..., None] * full_f + (1 - full_a[..., None]) * img
        for j in range(k):
            vis[j] *= 1 - full_a
        vis[k] = full_a
    # Fixed point with one final rounding: within 0.5 + n * 0.5 / 255 of the exact value.
    assert np.abs(canvas.image - img).max() <= 0.5 + 3 * 0.5 / 255 + 1e-9
    for m, v in zip(canvas.mattes, vis):
        assert np.abs(m - v * 255).max() <= 0.5 + 3 * 0.5 / 255 + 1e-9
    total = np.sum(np.stack(canvas.mattes).astype(int), axis=0)
    assert total.max() <= 255 + len(layers)


def opaque(h: int = 100, w: int = 100) -> np.ndarray:
    return np.full((h, w), 255, np.uint8)


def colour(a: np.ndarray) -> np.ndarray:
    return np.dstack([a, a, a])


def test_occlusion_rule_on_exact_overlaps():
    """Two opaque 100 x 100 people: a paste covering 10% of the first is accepted, 40% refused."""
    canvas = Canvas(np.zeros((100, 400, 3), np.uint8))
    canvas.paste(colour(opaque()), opaque(), 0, 0)
    assert canvas.keeps_visible(opaque(), 90, 0, 0.7)  # covers columns 90-99: 10%
    assert not canvas.keeps_visible(opaque(), 60, 0, 0.7)  # 40%
    assert canvas.keeps_visible(opaque(), 60, 0, 0.0)  # min_visible 0 accepts anything
    assert canvas.keeps_visible(opaque(), 200, 0, 1.0)  # no overlap: nothing covered


def test_published_rule_is_step_by_step_and_strict_rule_is_not():
    """A third paste takes the first person from 80% to 60% of its area: 75% of its current
    visible area (published rule: accepted), 60% of its original area (strict rule: refused)."""
    canvas = Canvas(np.zeros((100, 400, 3), np.uint8))
    canvas.paste(colour(opaque()), opaque(), 0, 0)
    assert canvas.keeps_visible(opaque(), 80, 0, 0.7)
    canvas.paste(colour(opaque()), opaque(), 80, 0)  # the first person keeps columns 0-79: 80%
    third = opaque(100, 20)
    assert canvas.keeps_visible(third, 60, 0, 0.7)  # 60 of 80 visible columns stay: 0.75 >= 0.7
    assert not canvas.keeps_visible(third, 60, 0, 0.7, of_original=True)  # 60 of 100: 0.6 < 0.7
    canvas.paste(colour(third), third, 60, 0)
    assert round(canvas.visible_area(0) / canvas.areas[0], 3) == 0.6
