"""The header parser against Pillow: every kind of JPEG and PNG a dataset may hold, sizes drawn at random."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from himfmt.io import images

KINDS = {  # name -> (Pillow mode to save, save options, format)
    "jpeg baseline": ("RGB", {}, "JPEG"),
    "jpeg progressive": ("RGB", {"progressive": True}, "JPEG"),
    "jpeg grey": ("L", {}, "JPEG"),
    "jpeg cmyk": ("CMYK", {}, "JPEG"),
    "png grey": ("L", {}, "PNG"),
    "png rgb": ("RGB", {}, "PNG"),
    "png rgba": ("RGBA", {}, "PNG"),
    "png la": ("LA", {}, "PNG"),
    "png palette": ("P", {}, "PNG"),
    "png 16-bit": ("I;16", {}, "PNG"),
    "png interlaced": ("RGB", {"interlace": True}, "PNG"),
}


def _picture(mode: str, w: int, h: int, rng: np.random.Generator) -> Image.Image:
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65535, (h, w), dtype=np.uint16))
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).convert(mode)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_header_parser_reads_what_pillow_reads(kind):
    mode, options, fmt = KINDS[kind]
    rng = np.random.default_rng(len(kind))
    for _ in range(6):
        w, h = (int(v) for v in rng.integers(1, 300, 2))
        buf = io.BytesIO()
        _picture(mode, w, h, rng).save(buf, fmt, **options)
        data = buf.getvalue()
        with Image.open(io.BytesIO(data)) as im:
            want = (im.width, im.height, im.mode, im.format)
        got = images.read_info(io.BytesIO(data), kind)
        assert (got.width, got.height, got.mode, got.format) == want, (kind, w, h)
        fast = images.info_from_head(data[: images.HEAD_BYTES])
        assert fast is None or fast == got  # the one-read path agrees, or leaves it to the full reader


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_exif_orientation_is_read_as_pillow_reads_it(orientation):
    im = Image.fromarray(np.zeros((20, 40, 3), np.uint8))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif.tobytes())
    got = images.read_info(io.BytesIO(buf.getvalue()), "rotated")
    with Image.open(io.BytesIO(buf.getvalue())) as pil:
        assert got.orientation == pil.getexif().get(0x0112, 1) == orientation
    assert (got.width, got.height) == (40, 20)  # as stored: loaders ignore the tag, and so does the size
