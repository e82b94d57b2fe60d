"""Contact sheets: look at the data, where a wrong matte or a shifted mask is obvious.

One row per drawn sample. An image sample shows its composite, the composite
with each instance's matte as a coloured overlay (one colour per instance,
the same in every frame), and, when it has guidance masks, the mattes in
grey with each mask's outline in its instance's colour. A clip shows a
filmstrip of evenly spaced frames with the overlay. Everything is drawn at
thumbnail size (pictures are shrunk first), with Pillow's built-in font.
With ``edges``, each row also shows its edge band: the composite at full
resolution, magnified, where its mattes are softest, everything else dimmed;
that is where a pasted photo's old background shows (``recipe.foreground``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from himfmt.errors import BadInputError
from himfmt.io import images
from himfmt.io.images import WrongModeError
from himfmt.model import Dataset, FileRef, Frame, Media, Sample

PANEL_W = 240
GAP = 4
LABEL_H = 14
ALPHA = 0.6  # overlay strength at matte 255
# Distinct colours (Sasha Trubetskoy's list), instance k takes PALETTE[k % 10].
PALETTE = np.array(
    [
        (230, 25, 75),
        (60, 180, 75),
        (255, 225, 25),
        (0, 130, 200),
        (245, 130, 48),
        (145, 30, 180),
        (70, 240, 240),
        (240, 50, 230),
        (210, 245, 60),
        (250, 190, 212),
    ],
    np.float32,
)


@dataclass
class Panel:
    """Where one picture of the sheet is: its box (x, y, w, h) and what it shows."""

    box: tuple[int, int, int, int]
    kind: str  # composite | overlay | masks | frame | edges
    sample: str
    frame: str


def _size(w: int, h: int, width: int) -> tuple[int, int]:
    return width, max(1, round(h * width / w))


def _shrink(arr: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    if (arr.shape[1], arr.shape[0]) == size:
        return arr
    return cv2.resize(arr, size, interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def overlay(image: np.ndarray, mattes: list[np.ndarray]) -> np.ndarray:
    """The composite with matte k tinted in PALETTE[k], in proportion to its alpha."""
    out = image.astype(np.float32)
    for k, m in enumerate(mattes):
        a = (m.astype(np.float32) / 255.0 * ALPHA)[:, :, None]
        out = out * (1 - a) + PALETTE[k % len(PALETTE)] * a
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def mask_outlines(mattes: list[np.ndarray], masks: list[list[np.ndarray]]) -> np.ndarray:
    """Mattes in grey, each instance's mask outlines in its colour."""
    grey = np.max(np.stack(mattes), axis=0) if mattes else np.zeros(masks[0][0].shape, np.uint8)
    out = cv2.cvtColor((grey.astype(np.float32) * 0.7).astype(np.uint8), cv2.COLOR_GRAY2RGB)
    kernel = np.ones((3, 3), np.uint8)
    for k, inst_masks in enumerate(masks):
        for mask in inst_masks:
            binary = (mask > 127).astype(np.uint8)
            edge = cv2.morphologyEx(binary, cv2.MORPH_GRADIENT, kernel) > 0
            out[edge] = PALETTE[k % len(PALETTE)].astype(np.uint8)
    return out


def _full(media: Media | None, gray: bool) -> np.ndarray | None:
    """A picture at full resolution (None when absent or unreadable: validation names the file)."""
    if media is None:
        return None
    try:
        return media.read_gray() if gray else media.read_rgb()
    except WrongModeError:  # a 16-bit or colour matte: still drawn, so its problem can be seen
        if not isinstance(media, FileRef):
            return None
        return images.viewable_gray(media.tree.read_image(media.path), media.where)
    except BadInputError:
        return None  # drawn as a blank panel


def _read(media: Media | None, size: tuple[int, int], gray: bool, nearest: bool = False) -> np.ndarray | None:
    arr = _full(media, gray)
    return None if arr is None else _shrink(arr, size, nearest)


def _panel_size(frame: Frame, width: int) -> tuple[int, int]:
    """(w, h) of the frame's pictures at ``width`` pixels wide (4:3 when its size cannot be read)."""
    pic = frame.image if frame.image is not None else (frame.instances[0].matte if frame.instances else None)
    try:
        w, h = pic.size() if pic is not None else (4, 3)
    except BadInputError:
        w, h = 4, 3
    return _size(w, h, width)


def _masks_panel(frame: Frame, size: tuple[int, int], mattes: list[np.ndarray]) -> np.ndarray | None:
    """The mattes in grey with each instance's mask outlines, or None when the frame has no masks."""
    masks = [[m for m in (_read(src, size, True, nearest=True) for src in i.masks.values()) if m is not None] for i in frame.instances]
    return mask_outlines(mattes, masks) if any(masks) else None


def frame_panels(frame: Frame, width: int, edges: bool = False) -> dict[str, np.ndarray]:
    """composite, overlay and (with masks) masks pictures of one frame, ``width`` pixels wide; ``edges``: and
    its :func:`edge_band`, from the same full-resolution pictures (each is decoded once)."""
    size = _panel_size(frame, width)
    full = _full(frame.image, False)
    full_mattes = [_full(i.matte, True) for i in frame.instances]
    image = np.full((size[1], size[0], 3), 40, np.uint8) if full is None else _shrink(full, size)
    mattes = [np.zeros(image.shape[:2], np.uint8) if m is None else _shrink(m, size) for m in full_mattes]
    out = {"composite": image, "overlay": overlay(image, mattes)}
    masks = _masks_panel(frame, size, mattes)
    if masks is not None:
        out["masks"] = masks
    band = edge_band(full, [m for m in full_mattes if m is not None], width) if edges and full is not None else None
    if band is not None:
        out["edges"] = band
    return out


DIM = 0.3  # brightness kept outside the edge band
ZOOM = 4  # magnification of the edge band panel


def edge_band(image: np.ndarray, mattes: list[np.ndarray], width: int, zoom: int = ZOOM) -> np.ndarray | None:
    """The square of ``image`` (``width / zoom`` pixels a side, at full resolution) holding the most soft
    matte pixels (0 < alpha < 255), magnified ``zoom`` times with pixels outside the band dimmed; None when no
    matte is soft."""
    h, w = int(image.shape[0]), int(image.shape[1])
    soft = np.zeros((h, w), np.uint8)
    for m in mattes:
        if m.shape == (h, w):
            soft |= ((m > 0) & (m < 255)).view(np.uint8)
    if not soft.any():
        return None
    side = max(1, min(width // zoom, h, w))
    density = cv2.boxFilter(soft, cv2.CV_32F, (side, side), normalize=False)
    cy, cx = np.unravel_index(int(np.argmax(density)), density.shape)
    y0 = min(max(0, int(cy) - side // 2), h - side)
    x0 = min(max(0, int(cx) - side // 2), w - side)
    crop = image[y0 : y0 + side, x0 : x0 + side].astype(np.float32)
    band = cv2.dilate(soft[y0 : y0 + side, x0 : x0 + side], np.ones((3, 3), np.uint8))[:, :, None]
    crop *= np.where(band > 0, 1.0, DIM).astype(np.float32)
    return cv2.resize(np.clip(crop + 0.5, 0, 255).astype(np.uint8), (side * zoom, side * zoom), interpolation=cv2.INTER_NEAREST)


def sample_row(
    sample: Sample, width: int = PANEL_W, frames: int = 4, edges: bool = False
) -> tuple[list[np.ndarray], list[tuple[str, str]]]:
    """The pictures of one row and (kind, frame name) of each; ``edges``: and the first frame's edge band."""
    if sample.is_clip and len(sample.frames) > 1:  # a clip: its frames, with their masks' outlines where it has masks
        picks = sorted({round(i * (len(sample.frames) - 1) / max(1, frames - 1)) for i in range(frames)})
        drawn = [frame_panels(sample.frames[i], width, edges and i == 0) for i in picks]
        pics, kinds = [p.get("masks", p["overlay"]) for p in drawn], [("frame", sample.frames[i].name) for i in picks]
        if "edges" in drawn[0]:
            pics.append(drawn[0]["edges"])
            kinds.append(("edges", sample.frames[0].name))
        return pics, kinds
    panels = frame_panels(sample.frames[0], width, edges)
    return list(panels.values()), [(kind, sample.frames[0].name) for kind in panels]


def draw_samples(
    datasets: list[Dataset], n: int = 16, seed: int = 0, split: str | None = None, sample: str | None = None
) -> list[tuple[Dataset, Sample]]:
    """Up to ``n`` samples drawn without replacement, from the sorted samples of every dataset."""
    pool = [
        (ds, s)
        for ds in datasets
        for s in ds.samples
        if (split is None or s.split == split) and (sample is None or s.id == sample) and s.frames
    ]
    pool.sort(key=lambda p: (p[0].path, p[1].split, p[1].id))
    if len(pool) <= n:
        return pool
    picks = np.random.default_rng(seed).choice(len(pool), size=n, replace=False)
    return [pool[i] for i in sorted(picks)]


def contact_sheet(rows: list[tuple[str, list[np.ndarray], list[tuple[str, str]]]]) -> tuple[Image.Image, list[Panel]]:
    """Rows of (label, pictures, (kind, frame) per picture) as one image, and where each picture is."""
    font = ImageFont.load_default()
    width = max((sum(p.shape[1] for p in pics) + GAP * (len(pics) + 1) for _, pics, _ in rows), default=PANEL_W)
    height = sum(LABEL_H + max(p.shape[0] for p in pics) + GAP for _, pics, _ in rows) + GAP
    sheet = Image.new("RGB", (width, height), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    panels: list[Panel] = []
    y = GAP
    for label, pics, kinds in rows:
        draw.text((GAP, y), label, fill=(235, 235, 235), font=font)
        y += LABEL_H
        x = GAP
        for pic, (kind, frame) in zip(pics, kinds):
            sheet.paste(Image.fromarray(pic), (x, y))
            panels.append(Panel((x, y, pic.shape[1], pic.shape[0]), kind, label, frame))
            x += pic.shape[1] + GAP
        y += max(p.shape[0] for p in pics) + GAP
    return sheet, panels


def preview(
    datasets: list[Dataset],
    n: int = 16,
    seed: int = 0,
    split: str | None = None,
    sample: str | None = None,
    width: int = PANEL_W,
    edges: bool = False,
) -> tuple[Image.Image, list[Panel]]:
    """The contact sheet of ``n`` drawn samples (or of ``sample``); ``edges``: with each one's edge band."""
    rows = []
    for ds, s in draw_samples(datasets, n, seed, split, sample):
        pics, kinds = sample_row(s, width, edges=edges)
        where = f"{ds.path}: " if ds.path else ""
        rows.append((f"{where}{s.split}/{s.id}  {ds.layout}, {s.n_instances} instance(s)", pics, kinds))
    return contact_sheet(rows)


PROBLEM = np.array((255, 0, 0), np.float32)


def problem_picture(sample: Sample, path: str, width: int = PANEL_W) -> np.ndarray:
    """The frame holding ``path`` with the picture at ``path`` drawn in red over the image.

    A matte or mask of another size is stretched onto the image, so a
    mismatch shows; the other instances are tinted faintly in their colours.
    """
    for frame in sample.frames:
        pictures = [(k, m) for k, inst in enumerate(frame.instances) for m in (inst.matte, *inst.masks.values())]
        hit = next(((k, m) for k, m in pictures if getattr(m, "path", None) == path), None)
        if hit is None and getattr(frame.image, "path", None) != path:
            continue
        panels = frame_panels(frame, width)
        image = panels["composite"]
        size = (image.shape[1], image.shape[0])
        out = image.astype(np.float32)
        for k, inst in enumerate(frame.instances):
            m = _read(inst.matte, size, True)
            if m is not None and (hit is None or k != hit[0]):
                a = (m.astype(np.float32) / 255.0 * 0.3)[:, :, None]
                out = out * (1 - a) + PALETTE[k % len(PALETTE)] * a
        if hit is not None:
            m = _read(hit[1], size, True)
            if m is not None:
                a = (m.astype(np.float32) / 255.0 * 0.8)[:, :, None]
                out = out * (1 - a) + PROBLEM * a
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return frame_panels(sample.frames[0], width)["overlay"]


def png_data_uri(picture: np.ndarray) -> str:
    import base64
    import io

    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def finding_pictures(
    datasets: list[Dataset], findings_by_group: dict[tuple[str, str], list[tuple[str, str | None]]], per_group: int = 3
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Thumbnails of the first findings of each (dataset path, code) group that name a sample."""
    by_path = {ds.path: {s.id: s for s in ds.samples} for ds in datasets}
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for (ds_path, code), items in findings_by_group.items():
        samples = by_path.get(ds_path, {})
        for path, sample_id in items:
            sample = samples.get(sample_id) if sample_id else None
            if sample is None or not sample.frames:
                continue
            out.setdefault((ds_path, code), []).append((path, png_data_uri(problem_picture(sample, path, 200))))
            if len(out[(ds_path, code)]) >= per_group:
                break
    return out
