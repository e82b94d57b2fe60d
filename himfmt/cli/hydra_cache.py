"""Two caches that take a third off a command's start (Hydra's compositions), with the same result.

Every command composes its config three times (the argument check in
:mod:`himfmt.cli.overrides`, Hydra's run-mode probe, the run itself); the
costs, with and without these caches, are in docs/performance.md. Every
composition:

- deep-copies its config repository "to avoid mutating it", and with it the
  whole ConfigStore, which every structured-config source holds: every
  command's schema, recipe and launcher config, each time. The
  store is a process-wide singleton that the copy's sources never use (they
  are rebuilt from ``ConfigStore.instance()``), so a copy is the store itself;
- parses the same packaged YAML files again with PyYAML's pure-Python loader,
  about eight files per composition. A file shipped in a package
  does not change while a process runs: it is parsed once, and each
  composition gets its own deep copy (Hydra edits what it loads).

Installed by the command line's entry (:func:`himfmt.cli.main.main`); idempotent.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from hydra.core.config_store import ConfigStore
from hydra.core.plugins import Plugins
from hydra.plugins.config_source import ConfigResult


def _same_store(self: ConfigStore, memo: dict[int, Any]) -> ConfigStore:
    return self


def _parsed_once(read: Callable[[Any, Any], ConfigResult]) -> Callable[[Any, Any], ConfigResult]:
    parsed: dict[tuple[str, str, str], ConfigResult] = {}

    def read_config(self: Any, res: Any) -> ConfigResult:
        key = (str(self.provider), str(self.path), str(res))
        if key not in parsed:
            parsed[key] = read(self, res)
        hit = parsed[key]
        return ConfigResult(
            config=copy.deepcopy(hit.config),
            path=hit.path,
            provider=hit.provider,
            header=dict(hit.header),
            is_schema_source=hit.is_schema_source,
        )

    read_config.himfmt_cached = True  # type: ignore[attr-defined]
    return read_config


def install() -> None:
    """Both caches, once per process.

    Hydra's plugin scan executes every plugin module again, the config
    sources' included, which would replace a patched class: the scan runs
    first (once per process, as it would anyway).
    """
    Plugins.instance()
    if "__deepcopy__" not in vars(ConfigStore):
        ConfigStore.__deepcopy__ = _same_store  # type: ignore[attr-defined]
    from hydra._internal.core_plugins.importlib_resources_config_source import ImportlibResourcesConfigSource

    read = ImportlibResourcesConfigSource._read_config
    if not getattr(read, "himfmt_cached", False):
        ImportlibResourcesConfigSource._read_config = _parsed_once(read)  # type: ignore[method-assign,assignment]
