"""Estimated foregrounds kept under the output, so each source person is estimated once.

Entries live in ``<out>/.himfmt/cache/foreground/<estimator>/``, one lossless
PNG per person crop, named by a hash of the crop's pixels (image and matte)
and the estimator with its version, and by a digest of the entry's own
bytes (an entry written over since, a poisoned one, matches no name and is
made again): a moved output, a renamed source or
another job into the same output finds them, and a changed person or
estimator never does. Entries are written like every output (a temporary
name, then a rename), so shards and workers sharing an output can race on
one entry and still only ever read a whole one; a damaged entry is made
again. The cache is never inside a source.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

import numpy as np

from himfmt.errors import BadInputError, HimfmtError
from himfmt.io import images
from himfmt.io.files import RECORD_DIR, OutDir

FOLDER = f"{RECORD_DIR}/cache/foreground"


def crop_key(image: np.ndarray, alpha: np.ndarray, estimator: str) -> str:
    """Hash of the pixels of a person's crop and of the estimator that made its foreground."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{estimator}|{image.shape}|{alpha.shape}|".encode())
    h.update(np.ascontiguousarray(image).data)
    h.update(np.ascontiguousarray(alpha).data)
    return h.hexdigest()


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


class ForegroundCache:
    """One estimator's entries under one output."""

    def __init__(self, out: str | Path, estimator: str) -> None:
        self.out, self.estimator = str(out), estimator

    def folder(self, key: str) -> str:
        return f"{FOLDER}/{self.estimator}/{key[:2]}"

    def rel(self, key: str, digest: str) -> str:
        """An entry is named by its crop's key and by the digest of its own bytes: one whose bytes were
        changed since (another picture written over it) no longer matches its name and is never used."""
        return f"{self.folder(key)}/{key}-{digest}.png"

    def _cached(self, out: OutDir, key: str, shape: tuple[int, ...]) -> np.ndarray | None:
        try:
            names = os.listdir(out.dir_fd(self.folder(key), create=False))
        except (OSError, HimfmtError):
            return None
        for name in sorted(n for n in names if n.startswith(key + "-") and n.endswith(".png")):
            rel = f"{self.folder(key)}/{name}"
            data = out.read_bytes(rel, limit=64 + 4 * int(np.prod(shape)))  # a PNG is never much larger than its pixels
            if data is None or f"{key}-{content_digest(data)}.png" != name:
                continue  # damaged or poisoned: made again
            try:
                cached = images.decode_rgb(data, out.display(rel))
            except BadInputError:
                continue
            if cached.shape == shape:
                return cached
        return None

    def get_or_make(self, image: np.ndarray, alpha: np.ndarray, make: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """The cached foreground of this crop, else ``make(image, alpha)``, kept for next time."""
        key = crop_key(image, alpha, self.estimator)
        out = OutDir.at(self.out)
        cached = self._cached(out, key, image.shape)
        if cached is not None:
            return cached
        made = make(image, alpha)
        data = images.encode_png(made)
        out.write_bytes(self.rel(key, content_digest(data)), data)
        return made
