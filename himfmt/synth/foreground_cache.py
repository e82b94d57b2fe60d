"""Estimated foregrounds kept under the output, so each source person is estimated once.

Entries live in ``<out>/.himfmt/cache/foreground/<estimator>/``, one lossless
PNG per person crop, named by a hash of the crop's pixels (image and matte)
and the estimator with its version: a moved output, a renamed source or
another job into the same output finds them, and a changed person or
estimator never does. Entries are written like every output (a temporary
name, then a rename), so shards and workers sharing an output can race on
one entry and still only ever read a whole one; a damaged entry is made
again. The cache is never inside a source.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import BadInputError
from ..io import images
from ..io.files import RECORD_DIR, OutDir

FOLDER = f"{RECORD_DIR}/cache/foreground"


def crop_key(image: np.ndarray, alpha: np.ndarray, estimator: str) -> str:
    """Hash of the pixels of a person's crop and of the estimator that made its foreground."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{estimator}|{image.shape}|{alpha.shape}|".encode())
    h.update(np.ascontiguousarray(image).data)
    h.update(np.ascontiguousarray(alpha).data)
    return h.hexdigest()


class ForegroundCache:
    """One estimator's entries under one output."""

    def __init__(self, out: str | Path, estimator: str) -> None:
        self.out, self.estimator = str(out), estimator

    def rel(self, key: str) -> str:
        return f"{FOLDER}/{self.estimator}/{key[:2]}/{key}.png"

    def get_or_make(self, image: np.ndarray, alpha: np.ndarray,
                    make: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """The cached foreground of this crop, else ``make(image, alpha)``, kept for next time."""
        rel = self.rel(crop_key(image, alpha, self.estimator))
        out = OutDir.at(self.out)
        data = out.read_bytes(rel, limit=64 + 4 * image.size)  # a PNG is never much larger than its raw pixels
        if data is not None:
            try:
                cached = images.decode_rgb(data, out.display(rel))
                if cached.shape == image.shape:
                    return cached
            except BadInputError:
                pass  # a damaged entry: made again below
        made = make(image, alpha)
        out.write_bytes(rel, images.encode_png(made))
        return made
