"""The typed options of every command and API call: one dataclass per operation.

The CLI composes ``conf/<command>.yaml`` on top of these schemas, so
OmegaConf's typed nodes do the parsing (``overwrite=no`` is ``False``,
``deep=maybe`` and ``n=abc`` are refused, a choice is an enum) and turns the
result into these objects before any work starts; the command then reads
only typed fields. Every default is written here once. Ranges and
cross-field rules are checked in ``__post_init__``, so an object built in
Python (the API) is checked the same way as one built from the command line.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Optional

from omegaconf import MISSING

from himfmt.derived.masks import MaskParams
from himfmt.errors import HimfmtError

# Choices a user types: an option typed as one of these refuses any other value, listing the choices.
Mode = StrEnum("Mode", ["copy", "hardlink", "symlink"])  # how convert writes bytes that need not change
Output = StrEnum("Output", ["text", "json"])
FailOn = StrEnum("FailOn", ["error", "warning"])
Kind = StrEnum("Kind", ["mask", "trimap"])  # what `himfmt masks` adds
Phase = StrEnum("Phase", ["train", "test"])  # DVM's two phases


def at_least(name: str, value: float | None, low: float) -> None:
    if value is not None and value < low:
        raise HimfmtError(f"{name} must be >= {low:g}, not {value:g}")


def layout_name(key: str, value: str | None, auto: bool = False) -> None:
    """Refuse an unknown layout name, suggesting the closest one."""
    from himfmt.layouts import LAYOUTS

    if value is None or value in LAYOUTS or (auto and value == "auto"):
        return
    known = [*LAYOUTS, *(["auto"] if auto else [])]
    close = difflib.get_close_matches(value, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise HimfmtError(f"{key}={value} is not a layout{hint} (known: {', '.join(known)})")


@dataclass
class Shard:
    """Shard ``index`` of ``count`` does every ``count``-th item of the sorted work."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        at_least("shard.count", self.count, 1)
        if not 0 <= self.index < self.count:
            raise HimfmtError(f"shard.index must be in 0..{self.count - 1}, not {self.index}")


@dataclass
class Parallel:
    """Worker processes (0 = one per core); the output never depends on it."""

    workers: int = 0
    shard: Shard = field(default_factory=Shard)

    def __post_init__(self) -> None:
        at_least("workers", self.workers, 0)


@dataclass
class LayoutsOptions:
    pass


@dataclass
class ExplainOptions:
    code: Optional[str] = None  # a finding code (null: list them all)


@dataclass
class DemoOptions:
    out: str = "himfmt-demo"  # the demo data root
    seed: int = 0
    overwrite: bool = False  # write into a folder that holds files an earlier demo did not make

    def __post_init__(self) -> None:
        at_least("seed", self.seed, 0)


@dataclass
class DetectOptions:
    root: str = MISSING
    layout: str = "auto"  # auto-detect, or read root as this layout
    output: Output = Output.text
    max_depth: int = 4  # how deep below root to look for datasets

    def __post_init__(self) -> None:
        layout_name("layout", self.layout, auto=True)
        at_least("max_depth", self.max_depth, 0)


@dataclass
class ValidateOptions(Parallel):
    root: str = MISSING
    layout: str = "auto"
    deep: bool = False  # also decode every file
    report: Optional[str] = None  # write the JSON report here
    html: Optional[str] = None  # write a standalone HTML report here
    fail_on: FailOn = FailOn.error  # exit 1 when a finding is at least this severe

    def __post_init__(self) -> None:
        super().__post_init__()
        layout_name("layout", self.layout, auto=True)


@dataclass
class ConvertOptions(Parallel):
    src: str = MISSING  # the dataset to read (never written to)
    dst: str = MISSING  # where the target tree goes
    to: str = MISSING  # target layout (see `himfmt layouts`)
    from_layout: str = "auto"  # source layout: auto, or a layout name (the CLI spells it from=)
    mode: Mode = Mode.copy  # how unchanged files are brought over
    frame_step: int = 1  # video -> image: every k-th frame becomes an image sample
    png_alpha: bool = False  # dvm_composed target: also keep a lossless PNG alpha (a_png/)
    trimap: Optional[tuple[int, int]] = None  # also write trimaps (DVM recipe): [kernel, iterations]
    dry_run: bool = False  # print the plan and write nothing
    overwrite: bool = False  # write into a non-empty dst that is not a resume of this same conversion

    def __post_init__(self) -> None:
        super().__post_init__()
        layout_name("to", self.to)
        layout_name("from", self.from_layout, auto=True)
        at_least("frame_step", self.frame_step, 1)


@dataclass
class Inputs:
    """Where a recipe reads from; which ones a recipe needs is its own business."""

    hhm: Optional[str] = None  # image_him, people_walk
    bg: Optional[str] = None  # image_him (stills); video_him, people_walk (stills, frame folders, videos)
    skip_list: Optional[str] = None  # image_hm: names of people to leave out, one a line
    clips: Optional[str] = None  # video_him
    source: Optional[str] = None  # dvm
    pairs: Optional[str] = None  # dvm: the pair list (default: the one in source)
    phase: Phase = Phase.train  # dvm


@dataclass
class SynthOptions(Parallel, Inputs):
    out: str = MISSING  # output root (the recipe's layout is written inside it)
    recipe: Any = MISSING  # the recipe group (recipe=NAME)
    n: Optional[int] = None  # samples to make: required, unless a schedule gives each run its n or the inputs decide (dvm)
    first: int = 0  # ids run first .. first+n-1 and name the outputs
    seed: int = 0
    layout: Optional[str] = None  # override the recipe's output layout
    split: Optional[str] = None  # override the recipe's split name
    attempts: Optional[int] = None  # draws per id before it is recorded as rejected (null = the recipe's)
    overwrite: bool = False
    runs: list[Any] = field(default_factory=list)  # a schedule: each entry overrides keys of this config

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("n", "first", "seed"):
            at_least(name, getattr(self, name), 0)
        at_least("attempts", self.attempts, 1)
        layout_name("layout", self.layout)


@dataclass
class MasksOptions(Parallel):
    root: str = MISSING
    mask: MaskParams = MISSING  # the preset group (mask=detector|xmem)
    kind: Kind = Kind.mask  # mask: a guidance mask set; trimap: trimaps where the layout has a place
    source: Optional[str] = None  # the mask dir to add (e.g. masks_matched_r50_fpn_3x, xmem)
    layout: Optional[str] = None
    split: Optional[str] = None
    seed: int = 0
    overwrite: bool = False
    trimap: tuple[int, int] = (3, 5)  # kind=trimap: [kernel, iterations] of DVM's recipe

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least("seed", self.seed, 0)
        layout_name("layout", self.layout)


@dataclass
class FillOptions(Parallel):
    dataset: Any = None  # the dataset group (dataset=NAME); a YAML file (dataset=FILE.yaml) sets dataset_file
    out: Optional[str] = None  # the dataset root (default: the dataset config's root)
    dataset_file: Optional[str] = None  # set by `dataset=FILE.yaml`
    dry_run: bool = False
    deep: bool = False  # inspect existing splits with deep validation (and read every recorded file's sha256)
    overwrite: bool = False  # replace files in a declared split that no himfmt record names (the user's)


@dataclass
class MergeOptions:
    root: str = MISSING
    deep: bool = False
    report: Optional[str] = None


@dataclass
class Drawn:
    """A command that reads ``n`` things of a tree drawn with ``seed``."""

    root: str = MISSING
    n: int = 16
    seed: int = 0
    layout: Optional[str] = None

    def __post_init__(self) -> None:
        at_least("n", self.n, 1)
        at_least("seed", self.seed, 0)
        layout_name("layout", self.layout)


@dataclass
class PreviewOptions(Drawn):
    out: str = "preview.png"
    n: int = 16  # samples drawn
    split: Optional[str] = None
    sample: Optional[str] = None
    width: int = 240  # of one panel, in pixels
    edges: bool = False  # also show each sample's edge band, magnified (where soft mattes meet the background)

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least("width", self.width, 16)


@dataclass
class StatsOptions(Drawn):
    output: Output = Output.text
    n: int = 64  # frames decoded for the matte figures


@dataclass
class UnpackOptions:
    archive: str = MISSING
    out: str = MISSING
    overwrite: bool = False
    max_ratio: float = 1000.0  # uncompressed / compressed per member
    max_member_gb: float = 16.0
    max_total_gb: float = 4096.0
    validate: bool = True  # validate what was unpacked
    deep: bool = False

    def __post_init__(self) -> None:
        for name in ("max_ratio", "max_member_gb", "max_total_gb"):
            if getattr(self, name) <= 0:
                raise HimfmtError(f"{name} must be > 0, not {getattr(self, name):g}")


@dataclass
class FixOptions:
    root: str = MISSING  # the tree to repair (never written to)
    out: str = MISSING  # where the repaired copy goes
    deep: bool = False  # also decode every file (finds corrupt pictures, 0/1 mattes, overlapping mattes)
    dry_run: bool = False  # list what would change and write nothing
    only: list[str] = field(default_factory=list)  # repair only these finding codes
    skip: list[str] = field(default_factory=list)  # leave these finding codes alone
    exclude: bool = True  # leave out samples that cannot be mended (false: copy them as they are)
    resize_mattes: bool = False  # resize mattes, masks and trimaps of another size than their image to it
    overwrite: bool = False  # write into a non-empty out that is not a resume of this same fix
    workers: int = 0  # worker processes (0 = one per core); the output never depends on it

    def __post_init__(self) -> None:
        at_least("workers", self.workers, 0)


SCHEMAS: dict[str, type] = {
    "layouts": LayoutsOptions,
    "demo": DemoOptions,
    "detect": DetectOptions,
    "validate": ValidateOptions,
    "explain": ExplainOptions,
    "convert": ConvertOptions,
    "synth": SynthOptions,
    "masks": MasksOptions,
    "fill": FillOptions,
    "merge": MergeOptions,
    "fix": FixOptions,
    "preview": PreviewOptions,
    "stats": StatsOptions,
    "unpack": UnpackOptions,
}

MASK_PRESETS = {"detector": MaskParams(), "xmem": MaskParams.xmem()}  # the mask= group
