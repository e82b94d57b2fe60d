"""Training from any tree himfmt reads: an iterable of samples as numpy arrays, split across workers and ranks.

::

    from himfmt.data import Samples

    for s in Samples("data/I-HIM50K", shuffle_seed=0, epoch=3, rank=0, world_size=2):
        s["image"]    # H x W x 3 uint8 RGB (a clip: "frames", T x H x W x 3)
        s["mattes"]   # N x H x W uint8, one per person (a clip: T x N x H x W)
        s["masks"]    # {mask dir: N x H x W uint8} (a clip: T x N x H x W)

A root is anything ``himfmt.open`` reads: a MaGGIe or DVM folder tree, or a zip
read in place. Pictures are decoded as the peer loaders decode them, only when
a sample is reached. The order is the sorted sample keys, or a permutation drawn
from ``(shuffle_seed, epoch)``: the same on every rank and worker, so that rank
``r`` of ``w`` takes every ``w``-th sample and worker ``k`` of ``n`` every
``n``-th of those, and each sample is seen once per epoch. ``torch_dataset``
wraps it for PyTorch's ``DataLoader`` (torch stays optional).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from himfmt.errors import HimfmtError
from himfmt.layouts.detect import open_datasets
from himfmt.model import Dataset, Frame, Media, Sample


@dataclass
class Samples:
    """The samples of every dataset under ``root`` (or of ``split`` only), as dicts of numpy arrays."""

    root: str | Path
    split: str | None = None
    shuffle_seed: int | None = None
    epoch: int = 0
    rank: int = 0
    world_size: int = 1
    worker: int = 0
    num_workers: int = 1
    _items: list[tuple[str, Dataset, Sample]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0 <= self.rank < self.world_size or not 0 <= self.worker < self.num_workers:
            raise HimfmtError(f"rank {self.rank} of {self.world_size}, worker {self.worker} of {self.num_workers}: out of range")

    def items(self) -> list[tuple[str, Dataset, Sample]]:
        """Every (key, dataset, sample) of the root, in the epoch's order (before the rank and worker split)."""
        if self._items is None:
            found = open_datasets(str(self.root))
            if not found:
                raise HimfmtError("no dataset found", str(self.root))
            items = [
                (f"{ds.path + '/' if ds.path else ''}{s.split}/{s.id}", ds, s)
                for ds in found
                for s in ds.samples
                if self.split is None or s.split == self.split
            ]
            self._items = sorted(items, key=lambda kv: kv[0])
        items = list(self._items)
        if self.shuffle_seed is not None:
            order = np.random.default_rng([self.shuffle_seed, self.epoch]).permutation(len(items))
            items = [items[i] for i in order]
        return items

    def mine(self) -> list[tuple[str, Dataset, Sample]]:
        """This rank's and this worker's share of the epoch."""
        return self.items()[self.rank :: self.world_size][self.worker :: self.num_workers]

    def __len__(self) -> int:
        return len(self.mine())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for key, ds, sample in self.mine():
            yield as_arrays(key, ds, sample)


def as_arrays(key: str, ds: Dataset, sample: Sample) -> dict[str, Any]:
    """One sample as the peer loaders hand it to a model: RGB uint8 pictures, one uint8 matte per person."""
    frames = [_frame(f) for f in sample.frames]
    out: dict[str, Any] = {
        "key": key,
        "layout": ds.layout,
        "split": sample.split,
        "id": sample.id,
        "frame_names": [f.name for f in sample.frames],
    }
    if sample.is_clip:
        if len({f["mattes"].shape for f in frames}) > 1:
            raise HimfmtError(f"clip {key}: its frames differ in size or people (himfmt validate names which)", ds.path or ".")
        out["frames"] = np.stack([f["image"] for f in frames])
        out["mattes"] = np.stack([f["mattes"] for f in frames])
        sources = frames[0]["masks"].keys()
        out["masks"] = {src: np.stack([f["masks"][src] for f in frames]) for src in sources if all(src in f["masks"] for f in frames)}
    else:
        out.update(frames[0])
    return out


def _frame(f: Frame) -> dict[str, Any]:
    image = _rgb(f.image)
    h, w = image.shape[:2]
    mattes = [_gray(i.matte) for i in f.instances if i.matte is not None]
    sources = sorted({src for i in f.instances for src in i.masks})
    out: dict[str, Any] = {
        "image": image,
        "mattes": np.stack(mattes) if mattes else np.zeros((0, h, w), np.uint8),
        "masks": {src: np.stack([_gray(i.masks[src]) for i in f.instances]) for src in sources if all(src in i.masks for i in f.instances)},
    }
    if f.trimap is not None:
        out["trimap"] = _gray(f.trimap)
    return out


def _rgb(m: Media | None) -> np.ndarray:
    if m is None:
        raise HimfmtError("a sample without a picture cannot be loaded")
    return m.read_rgb()


def _gray(m: Media | None) -> np.ndarray:
    if m is None:
        raise HimfmtError("a sample without a matte cannot be loaded")
    return m.read_gray()


def torch_dataset(root: str | Path, **options: Any) -> Any:
    """A ``torch.utils.data.IterableDataset`` over :class:`Samples`: each ``DataLoader`` worker takes its
    share (``set_epoch(e)`` before each epoch reshuffles). Needs torch (``pip install torch``)."""
    try:
        from torch.utils.data import IterableDataset, get_worker_info  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise HimfmtError("himfmt.data.torch_dataset needs torch: pip install torch") from None

    class HimfmtDataset(IterableDataset):  # type: ignore[misc, type-arg]
        def __init__(self) -> None:
            self.options = dict(options)

        def set_epoch(self, epoch: int) -> None:
            self.options["epoch"] = epoch

        def __iter__(self) -> Iterator[dict[str, Any]]:
            info = get_worker_info()
            samples = Samples(root, **self.options)
            if info is not None:  # this worker's share of the rank's
                samples.worker, samples.num_workers = info.id, info.num_workers
            return iter(samples)

    return HimfmtDataset()
