"""``himfmt fill``: make whatever a dataset config declares and the disk lacks."""

from __future__ import annotations

from importlib.resources import files

from omegaconf import DictConfig, OmegaConf

from himfmt.cli import console
from himfmt.cli.voice import VOICE
from himfmt.composition import group_options
from himfmt.generation.engine import fill

# The engine reads a config tree (a schedule's runs merge into it; a dataset config declares splits with their
# own overrides): this command gets the composed config, range-checked as every command's options are.
READS_CONFIG_TREE = True

SUMMARY = "make what a dataset config declares and the disk lacks: dataset=NAME|FILE.yaml [out=DIR] [dry_run=true]"


def run(cfg: DictConfig) -> int:
    _, failed = fill(cfg, VOICE)
    return 1 if failed else 0


def help_extra() -> str:
    """The shipped dataset configs and the sources each needs, read from the configs themselves."""
    lines = ["Dataset configs (dataset=NAME) and the sources each reads (dataset.sources.KEY=DIR):"]
    for name in group_options("dataset"):
        node = OmegaConf.load(str(files("himfmt.conf").joinpath("dataset", f"{name}.yaml")))
        sources = node.get("sources") if isinstance(node, DictConfig) else None
        sources = sources if isinstance(sources, DictConfig) else OmegaConf.create({})
        needed = [str(k) for k in sources if OmegaConf.is_missing(sources, k)]
        optional = [str(k) for k in sources if not OmegaConf.is_missing(sources, k)]
        said = (f"needs {', '.join(needed)}" if needed else "needs no source (a built-in kit)") + (
            f"; may set {', '.join(optional)}" if optional else ""
        )
        lines.append(f"  {name}: {said}")
    lines.append("A dry run (dry_run=true) shows the plan even while sources are missing, and names them all.")
    return console.hang("\n".join(lines))
