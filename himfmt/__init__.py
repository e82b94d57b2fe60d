"""himfmt: validate, convert and synthesize human-instance-matting datasets.

The Python API does what the commands do, with the same options::

    import himfmt
    for ds in himfmt.open("data"):            # every dataset found, as the common model
        for sample in ds.samples:             # an image or a clip
            for frame in sample.frames:
                image = frame.image.read_rgb()              # decoded only now
                mattes = [i.matte.read_gray() for i in frame.instances]

``validate``, ``convert``, ``fix``, ``synth``, ``fill``, ``masks``, ``stats`` and
``preview`` return what the commands print: reports, summaries, tables as
data. Bad input raises :class:`himfmt.errors.HimfmtError` naming the path.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

__version__ = "0.1.0"

if TYPE_CHECKING:
    from omegaconf import DictConfig
    from PIL.Image import Image

    from himfmt.conversion.job import Summary
    from himfmt.derived.sets import Result as DerivedResult
    from himfmt.model import Dataset
    from himfmt.repair.job import Fixed
    from himfmt.synthesis.runner import Plan, Result
    from himfmt.validation.report import Report

__all__ = ["open", "validate", "convert", "fix", "synth", "fill", "masks", "stats", "preview"]


def open(path: str | Path, layout: str | None = None) -> list["Dataset"]:  # noqa: A001 (the package's verb)
    """Every dataset under ``path`` (or ``path`` read as ``layout``), read lazily: no pixel is decoded."""
    from himfmt.layouts.detect import open_datasets

    return open_datasets(str(path), layout=layout)


def validate(root: str | Path, layout: str | None = None, deep: bool = False, workers: int = 0) -> "Report":
    """The validation report of ``root`` (``report.findings``, ``report.fails("error")``, ``report.to_json()``).

    ``deep=True`` decodes in ``workers`` spawned processes (0: one per core): a script that calls it
    needs the ``if __name__ == "__main__":`` guard, since each worker imports the script first.
    """
    from himfmt.validation import validate as run

    return run(str(root), layout, deep, workers)


def convert(
    src: str | Path,
    dst: str | Path,
    to: str,
    mode: str = "copy",
    from_layout: str | None = None,
    overwrite: bool = False,
    dry_run: bool = False,
    frame_step: int = 1,
    png_alpha: bool = False,
    trimap: tuple[int, int] | None = None,
    workers: int = 1,
) -> "Summary":
    """Convert ``src`` into ``dst`` as layout ``to`` (the summary lists what was lossy and what failed).

    ``workers`` > 1 starts spawned processes: a script needs the ``if __name__ == "__main__":`` guard.
    """
    from himfmt.conversion.job import Job
    from himfmt.conversion.job import convert as run

    return run(Job(str(src), str(dst), to, mode, frame_step, png_alpha, trimap, workers), from_layout, overwrite, dry_run, afresh=overwrite)


def fix(
    root: str | Path,
    out: str | Path,
    deep: bool = False,
    dry_run: bool = False,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    exclude: bool = True,
    resize_mattes: bool = False,
    overwrite: bool = False,
    workers: int = 1,
) -> "Fixed":
    """A repaired copy of every dataset under ``root`` in ``out`` (``result.changes``, ``result.report``: the
    copy's validation). ``workers`` other than 1 starts spawned processes: a script needs the
    ``if __name__ == "__main__":`` guard."""
    from himfmt.options import FixOptions
    from himfmt.repair.job import fix as run

    return run(FixOptions(str(root), str(out), deep, dry_run, list(only), list(skip), exclude, resize_mattes, overwrite, workers))


@contextmanager
def _hydra() -> Iterator[None]:
    """Hydra's config store for compose(), also when called from inside a Hydra app."""
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        yield
        return
    with initialize_config_module("himfmt.conf", version_base="1.3"):
        yield


def _config(command: str, options: dict[str, Any], overrides: list[str]) -> "DictConfig":
    from himfmt.composition import compose_config, normalize

    args = [f"{k}={v}" for k, v in options.items() if v is not None] + list(overrides)
    return compose_config(command, normalize(command, args))


def synth(recipe: str, out: str | Path, overrides: Sequence[str] = (), **options: Any) -> list[tuple["Plan", "Result"]]:
    """Run a recipe, e.g. ``synth("image_him", "data", hhm="HHM", bg="BG", n=100, overrides=["recipe.people_max=5"])``.

    ``workers`` other than 1 (0, the default: one per core) starts spawned processes: a script needs
    the ``if __name__ == "__main__":`` guard.
    """
    from himfmt.synthesis.jobs import synthesize

    with _hydra():
        return synthesize(_config("synth", {"recipe": recipe, "out": out, **options}, list(overrides)))


def fill(
    dataset: str | Path,
    out: str | Path | None = None,
    dry_run: bool = False,
    overrides: Sequence[str] = (),
    workers: int = 0,
    show: bool = False,
) -> tuple[int, int]:
    """Make what a dataset config (a name in conf/dataset/ or a YAML file) declares; returns (splits made, failures).

    ``show``: print the plan and the progress as ``himfmt fill`` does (nothing is printed otherwise).
    ``workers`` other than 1 (0: one per core) starts spawned processes: a script needs the
    ``if __name__ == "__main__":`` guard.
    """
    from himfmt.feedback import SILENT, Voice
    from himfmt.generation.engine import fill as run

    voice: Voice = SILENT
    if show:
        from himfmt.cli.voice import VOICE  # the terminal's, when asked

        voice = VOICE
    with _hydra():
        return run(_config("fill", {"dataset": dataset, "out": out, "dry_run": dry_run, "workers": workers}, list(overrides)), voice)


def masks(
    root: str | Path, source: str, preset: str = "detector", seed: int = 0, kind: str = "mask", overwrite: bool = False, workers: int = 1
) -> list["DerivedResult"]:
    """Add a guidance mask set (or trimaps, ``kind="trimap"``) to every dataset under ``root``.

    ``workers`` > 1 starts spawned processes: a script needs the ``if __name__ == "__main__":`` guard.
    """
    from himfmt.derived.sets import spec_from, write
    from himfmt.errors import HimfmtError
    from himfmt.options import MASK_PRESETS, Kind, MasksOptions

    if preset not in MASK_PRESETS:
        raise HimfmtError(f"preset must be one of {', '.join(MASK_PRESETS)}, not {preset!r}")
    opts = MasksOptions(
        root=str(root), mask=MASK_PRESETS[preset], kind=Kind(kind), source=source, seed=seed, overwrite=overwrite, workers=workers
    )
    spec = spec_from(opts.seed, opts.trimap, opts.source, opts.mask, opts.kind.value)
    return [write(ds, spec, None, overwrite, workers) for ds in open(root)]


def stats(root: str | Path, n: int = 64, seed: int = 0) -> list[dict[str, Any]]:
    """Counts, resolutions and matte figures per dataset and split (what ``himfmt stats output=json`` prints)."""
    from himfmt.inspection.stats import stats as run

    return run(open(root), n, seed)


def preview(root: str | Path, n: int = 16, seed: int = 0, split: str | None = None, sample: str | None = None) -> "Image":
    """The contact sheet of ``n`` drawn samples, as a PIL image."""
    from himfmt.inspection.preview import preview as run

    return run(open(root), n, seed, split, sample)[0]
