"""Foreground colour estimation: paste the person's own colour, not the photo.

A photo's soft pixels (hair, motion blur, edges) hold ``a*F + (1-a)*B_old``:
pasted as they are, they carry the old background onto the new one, a halo
a matting model then learns. Each photo-pasting recipe can instead paste an
estimate of ``F`` made from the photo and its matte
(``recipe.foreground``):

- ``photo``: the photo itself, as the published recipes do (the default, so
  they stay reproducible byte for byte);
- ``fast``: blur fusion (approximate fast foreground colour estimation,
  Forte and Pitie 2021), see :func:`blur_fusion`;
- ``best``: multi-level foreground estimation (Germer et al. 2020) as the
  ``pymatting`` library implements it, installed with
  ``pip install 'himfmt[matting]'``; its results are cached
  (:mod:`himfmt.synthesis.foreground_cache`).

Estimates are made on the person's crop at its source resolution, before
any resizing, and rounded to 8 bits, so a cached estimate and a fresh one
are the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from himfmt.errors import HimfmtError
from himfmt.synthesis.foreground_cache import ForegroundCache


class Foreground(StrEnum):
    """What colour a pasted person has where its matte is soft."""

    photo = "photo"  # the photo's own pixels (published)
    fast = "fast"  # blur-fusion estimate of F
    best = "best"  # pymatting's multi-level estimate of F (himfmt[matting])


@dataclass
class ForegroundOption:
    """The option of every photo-pasting recipe: ``recipe.foreground=photo|fast|best``."""

    foreground: Foreground = Foreground.photo  # photo: paste the photo (published); fast | best: an estimate of F


EPS = 1e-5
WIDE, NARROW = 15, 6  # box sizes of the two passes, in source pixels
WIDE_SCALE = 4  # the wide pass's window means are computed at 1/4 resolution
REACH = 6  # clear pixels within this many pixels of the person get an F too (resizing reaches them)


def blur_fusion(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Estimated F (uint8 RGB) of ``image`` (uint8 RGB) under ``alpha`` (uint8).

    Per pass, F is the local mean of foreground colour (box mean of ``I*a``
    over the mean of ``a``) corrected so the compositing equation holds:
    ``F = Fm + a*(I - a*Fm - (1-a)*Bm)``, with ``Bm`` the local mean of
    background colour. A wide pass gives Fm and Bm; a narrow pass refines Fm
    from the first estimate. Measured choices, on people 400-1500 px tall
    in front of busy backgrounds (bench/foreground.py): boxes of 15 and 6 px
    remove more of the photo's edge error than the method's published 90 and
    6 (55% against 44%); the wide means at 1/4 resolution, the narrow pass's
    background mean taken from the wide one (it is smooth at that scale), and
    the per-pixel work done only where F matters (soft pixels and clear
    pixels next to the person) cost a third of the published method's time
    for the same error (docs/performance.md).
    """
    image, alpha = np.ascontiguousarray(image), np.ascontiguousarray(alpha)
    h, w = alpha.shape
    ia = cv2.multiply(image, cv2.merge([alpha, alpha, alpha]), scale=1 / 65025, dtype=cv2.CV_32F)  # I*a, 0..1
    fm1, bm1 = _wide_means(image, alpha, ia)
    soft = np.flatnonzero((alpha > 0) & (alpha < 255))
    f1, a_soft = _corrected(image, alpha, soft, fm1[soft], bm1[soft])
    f1a = ia  # from here F1*a: the same as I*a wherever a is 0 or 255
    f1a.reshape(-1, 3)[soft] = f1 * a_soft
    near = cv2.dilate((alpha > 0).view(np.uint8), np.ones((2 * REACH + 1,) * 2, np.uint8)).reshape(-1)
    band = np.flatnonzero((near > 0) & (alpha.reshape(-1) < 255))
    am2 = cv2.boxFilter(alpha, cv2.CV_32F, (NARROW, NARROW)).reshape(-1, 1)[band] * (1 / 255)
    fm2 = cv2.blur(f1a, (NARROW, NARROW)).reshape(-1, 3)[band] / (am2 + EPS)
    out = image.copy().reshape(-1, 3)  # F = I where a is 255 (and where it is 0 far from the person)
    out[band] = cv2.convertScaleAbs(_corrected(image, alpha, band, fm2, bm1[band])[0], alpha=255.0).reshape(-1, 3)
    return out.reshape(h, w, 3)


def _wide_means(image: np.ndarray, alpha: np.ndarray, ia: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local foreground and background colour means (flat, per pixel) over WIDE-pixel boxes."""
    h, w = alpha.shape
    small = (max(1, w // WIDE_SCALE), max(1, h // WIDE_SCALE))
    box = (max(1, round(WIDE / WIDE_SCALE)),) * 2

    def mean(x: np.ndarray) -> np.ndarray:
        return cv2.blur(cv2.resize(x, small, interpolation=cv2.INTER_AREA), box)

    am = mean(alpha).astype(np.float32)[:, :, None] * (1 / 255)
    iam = mean(ia)
    fm = iam / (am + EPS)
    bm = (mean(image).astype(np.float32) * (1 / 255) - iam) / ((1 + EPS) - am)  # mean of I*(1-a) over mean of 1-a
    up = [cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR).reshape(-1, 3) for m in (fm, bm)]
    return up[0], up[1]


def _corrected(image: np.ndarray, alpha: np.ndarray, idx: np.ndarray, fm: np.ndarray, bm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``F = Fm + a*(I - a*Fm - (1-a)*Bm)`` at the flat pixel indexes ``idx`` (0..1), and ``a`` there."""
    a = alpha.reshape(-1, 1)[idx].astype(np.float32) * (1 / 255)
    i = image.reshape(-1, 3)[idx].astype(np.float32) * (1 / 255)
    return np.clip(fm + a * (i - a * fm - (1 - a) * bm), 0, 1), a


ML_MODULE = "pymatting.foreground.estimate_foreground_ml"


def _pymatting() -> Callable[..., Any]:
    """pymatting's ``estimate_foreground_ml``, loaded from its own module.

    Importing the ``pymatting`` package compiles every algorithm it has (tens
    of seconds in a new environment, until numba's cache holds them); the
    estimator's module needs only numpy and numba and compiles in a tenth of
    that (docs/performance.md). It is loaded from
    its file under its own name, so numba's cache entries are the ones the
    package itself makes and reads. Where a release keeps the estimator
    elsewhere, the package is imported as usual.
    """
    import importlib
    import importlib.util
    import sys

    if ML_MODULE in sys.modules:
        return sys.modules[ML_MODULE].estimate_foreground_ml  # type: ignore[no-any-return]
    missing = HimfmtError(
        "recipe.foreground=best needs pymatting, which is not installed: pip install 'himfmt[matting]' "
        "(in a clone: pip install -e '.[matting]'), or use recipe.foreground=fast"
    )
    spec = importlib.util.find_spec("pymatting")
    if spec is None or not spec.submodule_search_locations:
        raise missing
    path = Path(list(spec.submodule_search_locations)[0]) / "foreground" / "estimate_foreground_ml.py"
    own = importlib.util.spec_from_file_location(ML_MODULE, path) if path.is_file() else None
    try:
        if own is None or own.loader is None:
            return importlib.import_module("pymatting").estimate_foreground_ml  # type: ignore[no-any-return]
        module = importlib.util.module_from_spec(own)
        sys.modules[ML_MODULE] = module
        own.loader.exec_module(module)
    except ImportError:  # numba, which pymatting needs, is missing or broken
        sys.modules.pop(ML_MODULE, None)
        raise missing from None
    return module.estimate_foreground_ml  # type: ignore[no-any-return]


def multilevel(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Estimated F (uint8 RGB) by pymatting's multi-level method with its published defaults."""
    f = _pymatting()(image.astype(np.float64) / 255, alpha.astype(np.float64) / 255)
    return cv2.convertScaleAbs(np.asarray(f, np.float32), alpha=255.0)


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


class ForegroundEstimator:
    """What a recipe calls on each source person's crop: the colours to paste.

    ``best`` is slow enough to keep: its estimates go to a cache under the
    output, keyed by the pixels and the estimator's version, so a person
    drawn into many samples (by any worker or shard) is estimated once.
    ``fast`` is not cached: reading an estimate back (hash, PNG decode) costs
    about what making it does.
    """

    def __init__(self, mode: Foreground, out: str | Path | None = None) -> None:
        self.mode = Foreground(mode)
        if self.mode == Foreground.best:
            _pymatting()  # fail before any work when the extra is missing
        self.cache = (
            ForegroundCache(out, f"multilevel-pymatting-{_version('pymatting')}")
            if self.mode == Foreground.best and out is not None
            else None
        )

    def __call__(self, image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        if self.mode == Foreground.photo:
            return image
        if self.mode == Foreground.fast:
            return blur_fusion(image, alpha)
        if self.cache is None:
            return multilevel(image, alpha)
        return self.cache.get_or_make(image, alpha, multilevel)


def estimator_for(cfg: Any, params: ForegroundOption) -> ForegroundEstimator:
    """The estimator of a recipe's ``foreground`` option, caching under the synth section's ``out``."""
    return ForegroundEstimator(params.foreground, str(cfg.out) if cfg.get("out") else None)
