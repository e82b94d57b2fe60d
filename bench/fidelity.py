"""Fidelity: himfmt's default recipes against the statistics of MaGGIe's published data.

Synthesizes image samples and video placements from sources shaped like the
published ones (people 1000-1500 px tall with soft edges, as HHM's, on
1920x1080 backgrounds, as BG-20K's) and prints each statistic next to the
value measured on the published generators' output:

- image_him: people per image (2.97), share of people partly occluded (39%),
  minimum and 5th percentile visible fraction (0.56), share of drawn people
  dropped (5%);
- video_him: acceptance rate per level (medium 10%, hard 57%) and the median
  pairwise box overlap of hard videos (0.72; intersection over the smaller box);
- the JPEG quality of the written images (75).

Targets: within 0.15 people per image, 8 points of occluded share and 0.1 of
median overlap. The video figures depend on the clips' shapes (how much of
its box a person fills, how far it moves in 30 frames): the synthetic clips
here are head-and-shoulders or whole people swaying in place, which is what
VideoMatte240K mostly holds, but not its footage.
Usage: python bench/fidelity.py [image_samples] [videos_per_level]
"""

from __future__ import annotations

import io
import sys
import time

import numpy as np
from PIL import Image

from himfmt.demo import kit
from himfmt.model import ArrayRef, Frame, Instance, Sample
from himfmt.synthesis import image_him, video_him
from himfmt.synthesis.backgrounds import Background
from himfmt.synthesis.runner import rng_for

PUBLISHED = {
    "people": 2.97,
    "occluded": 0.39,
    "min_visible": 0.56,
    "dropped": 0.05,
    "medium_accept": 0.10,
    "hard_accept": 0.57,
    "hard_overlap": 0.72,
    "jpeg": 75,
}


def person(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """An HHM-like photo, 1000-1500 px tall: mostly upper-body portraits (as most of HHM), some full bodies,
    on a busy background, with the person's soft matte."""
    rng = np.random.default_rng(seed)
    height = int(rng.integers(1000, 1501))
    half = rng.random() < 0.7
    fg, a = kit.person(rng, int(height / 0.55) if half else height, phase=float(rng.uniform(0, 6.28)))
    if half:  # head and torso: the top 55% of a whole body
        fg, a = fg[:height], a[:height]
    photo = kit.background(rng, fg.shape[1] + 160, fg.shape[0] + 60)
    alpha = np.zeros(photo.shape[:2], np.uint8)
    photo[60:, 80 : 80 + fg.shape[1]] = fg
    alpha[60:, 80 : 80 + a.shape[1]] = a
    return photo, alpha


def backgrounds(n: int) -> list[np.ndarray]:
    return [kit.background(np.random.default_rng(1000 + i), 1920, 1080) for i in range(n)]


def image_stats(n: int) -> dict[str, float]:
    people = [tuple(ArrayRef(x) for x in person(i)) for i in range(40)]
    recipe = image_him.ImageHim(people, [ArrayRef(b) for b in backgrounds(8)], image_him.Params())  # type: ignore[arg-type]
    placed, drawn, visible = 0, 0, []
    made = 0
    i = 0
    while made < n:
        for attempt in range(10):
            c = recipe.compose(i, rng_for(0, "image_him/I-HIM50K", i, attempt))
            drawn += c.drawn
            if c.sample is not None:
                break
        i += 1
        if c.sample is None:
            continue
        made += 1
        placed += len(c.canvas.areas)
        visible += [c.canvas.visible_area(k) / a for k, a in enumerate(c.canvas.areas) if a > 0]
    v = np.array(visible)
    return {
        "people": placed / made,
        "occluded": float(np.mean(v < 0.999)),
        "min_visible": float(v.min()),
        "p5_visible": float(np.percentile(v, 5)),
        "dropped": 1 - placed / drawn,
    }


class Walking:
    """Frame ``f`` of a person walking across a 1280 x 720 clip (VideoMatte240K-like), drawn when read."""

    def __init__(self, fg: np.ndarray, a: np.ndarray, x: float, speed: float, f: int) -> None:
        self.fg, self.a, self.x = fg, a, int(x + speed * f)

    where = "bench clip"
    suffix = ""

    def size(self) -> tuple[int, int]:
        return 1280, 720

    def _place(self, layer: np.ndarray) -> np.ndarray:
        canvas = np.zeros((720, 1280, *layer.shape[2:]), np.uint8)
        h, w = layer.shape[:2]
        x0, x1 = max(self.x, 0), min(self.x + w, 1280)
        if x0 < x1:
            canvas[720 - h :, x0:x1] = layer[:, x0 - self.x : x1 - self.x]
        return canvas

    def read_gray(self) -> np.ndarray:
        return self._place(self.a)

    def read_rgb(self) -> np.ndarray:
        return self._place(self.fg)


CROP = 0.45  # head, shoulders and arms: the top of a whole body


def clip(seed: int, frames: int = 30) -> Sample:
    """A person (upper body or whole) walking across the frame for ``frames`` frames."""
    rng = np.random.default_rng(seed)
    height = int(720 * rng.uniform(0.7, 0.95))
    half = rng.random() < 0.8  # VideoMatte240K: mostly head and shoulders, some whole bodies
    fg, a = kit.person(rng, int(height / CROP) if half else height)
    if half:
        fg, a = fg[:height], a[:height]
    x, speed = rng.uniform(0.1, 0.5) * 1280, rng.uniform(0.5, 3) * rng.choice([-1, 1])  # mostly standing, swaying
    steps = [Walking(fg, a, x, speed, f) for f in range(frames)]
    return Sample(
        f"c{seed}",
        "train",
        [Frame(f"{f:05d}", m, [Instance("00", m)]) for f, m in enumerate(steps)],  # type: ignore[arg-type]
        is_clip=True,
    )


def video_stats(per_level: int) -> dict[str, float]:
    clips = [clip(i) for i in range(12)]
    bgs = [Background(f"b{i}", [ArrayRef(b)], still=True) for i, b in enumerate(backgrounds(4))]  # type: ignore[list-item]
    out: dict[str, float] = {}
    for level in ("medium", "hard"):
        recipe = video_him.VideoHim(clips, bgs, video_him.Params(level))
        tried, overlaps = 0, []
        accepted = 0
        i = 0
        while accepted < per_level and tried < 40 * per_level:
            draft = recipe.draft(rng_for(0, f"video_him-{level}/comp_{level}", i, 0))
            i += 1
            tried += 1
            if draft is None:
                continue
            accepted += 1
            boxes = [(q.x, q.y, q.x + q.w, q.y + q.h) for q in draft[0]]
            for a in range(len(boxes)):
                for b in range(a + 1, len(boxes)):
                    overlaps.append(box_overlap(boxes[a], boxes[b]))
        out[f"{level}_accept"] = accepted / tried
        out[f"{level}_overlap"] = float(np.median(overlaps)) if overlaps else 0.0
    return out


def box_overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return iw * ih / smaller if smaller else 0.0


def jpeg_quality() -> int:
    """The quality image_him writes, read back from the file's luminance table."""
    from himfmt.io import images

    data = images.encode_jpeg(backgrounds(1)[0][:64, :64], image_him.Config().jpeg_quality)
    table = list(Image.open(io.BytesIO(data)).quantization[0])
    for q in range(1, 101):
        buf = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buf, "JPEG", quality=q)
        if list(Image.open(buf).quantization[0]) == table:
            return q
    return -1


def main() -> None:
    n_images = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    per_level = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    t = time.perf_counter()
    got = {**image_stats(n_images), **video_stats(per_level), "jpeg": jpeg_quality()}
    rows = [
        ("people per image", "people", "{:.2f}", 0.15),
        ("people partly occluded", "occluded", "{:.0%}", 0.08),
        ("min visible fraction", "min_visible", "{:.2f}", None),
        ("5th percentile visible", "p5_visible", "{:.2f}", None),
        ("drawn people dropped", "dropped", "{:.0%}", None),
        ("medium videos accepted", "medium_accept", "{:.0%}", None),
        ("hard videos accepted", "hard_accept", "{:.0%}", None),
        ("hard median box overlap", "hard_overlap", "{:.2f}", 0.1),
        ("JPEG quality", "jpeg", "{}", 0),
    ]
    print(f"{'statistic':<26}{'himfmt':>9}{'published':>11}  target")
    ok = True
    for label, key, fmt, tol in rows:
        ref = PUBLISHED.get(key)
        mine = got[key]
        verdict = ""
        if tol is not None and ref is not None:
            good = abs(mine - ref) <= tol + 1e-9
            ok &= good
            verdict = ("met" if good else "MISSED") + f" (within {fmt.format(tol) if key != 'people' else tol})"
        print(f"{label:<26}{fmt.format(mine):>9}{fmt.format(ref) if ref is not None else '-':>11}  {verdict}")
    print(
        f"{n_images} image samples, {per_level} videos per level; {time.perf_counter() - t:.0f} s; "
        f"{'all targets met' if ok else 'some targets missed'}"
    )


if __name__ == "__main__":
    main()
