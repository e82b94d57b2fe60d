"""The check registry: every content check is one small registered function.

A check declares its family (``structure``: names and image headers, the
default pass; ``deep``: decoded pixels), its scope (what it is called with:
a tree, a dataset, a sample or a frame) and every finding code it can emit,
written out literally so ``grep`` finds each emitter. The validation passes
run what is registered; a new check is a new function, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, TypeVar

from himfmt.validation.catalog import Finding

F = TypeVar("F", bound=Callable[..., Iterable[Finding]])

FAMILIES = ("structure", "deep")
SCOPES = ("tree", "dataset", "sample", "frame")


@dataclass(frozen=True)
class Check:
    name: str
    family: str
    scope: str
    codes: tuple[str, ...]
    fn: Callable[..., Iterable[Finding]]


CHECKS: list[Check] = []


def check(family: str, scope: str, codes: tuple[str, ...]) -> Callable[[F], F]:
    """Register the decorated function as a check of ``family`` and ``scope`` that emits ``codes``."""
    if family not in FAMILIES or scope not in SCOPES:
        raise ValueError(f"a check is {'|'.join(FAMILIES)} over {'|'.join(SCOPES)}, not {family} over {scope}")

    def register(fn: F) -> F:
        CHECKS.append(Check(fn.__name__, family, scope, codes, fn))
        _CHOSEN.clear()
        return fn

    return register


_CHOSEN: dict[tuple[str, str], list[Callable[..., Iterable[Finding]]]] = {}


def run(family: str, scope: str, *args: Any) -> list[Finding]:
    """Every finding of the registered checks of ``family`` over ``scope``, in registration order."""
    fns = _CHOSEN.get((family, scope))
    if fns is None:  # chosen once: a structure pass calls this for every one of 50,000 frames
        fns = _CHOSEN[(family, scope)] = [c.fn for c in CHECKS if c.family == family and c.scope == scope]
    return [f for fn in fns for f in fn(*args)]
