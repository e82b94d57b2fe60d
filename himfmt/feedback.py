"""How a long job speaks without knowing the terminal: progress, and a voice for its lines.

Core steps take ``progress(total, label) -> advance(n)`` and a :class:`Voice`
and never print. The command line passes the console's bars and voice
(:mod:`himfmt.cli.console`); the Python API passes nothing (silence) unless
asked to show. ``Voice.show`` hands over a result object (a fill plan, a
validation report) for the caller to draw as it likes.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Callable, Protocol

Advance = Callable[[int], None]
Progress = Callable[[int, str], Advance]


def _ignore(n: int) -> None:
    return None


def no_progress(total: int, label: str = "") -> Advance:
    return _ignore


class Voice(Protocol):
    def say(self, text: str) -> None:
        """A line of the job's result (stdout on the command line). ``text`` is plain: never markup."""

    def warn(self, text: str) -> None:
        """Something the user should know; the job goes on."""

    def error(self, text: str) -> None:
        """Something failed; the job may go on with other samples."""

    def progress(self, label: str, elapsed: bool = False) -> AbstractContextManager[Progress]:
        """Bars for the steps inside the block."""

    def status(self, label: str) -> AbstractContextManager[object]:
        """A label shown while a step with no count runs."""

    def show(self, result: object) -> None:
        """A result object (a plan, a report) drawn as the caller draws it."""


class Silent:
    """The voice of a library call: nothing is printed."""

    def say(self, text: str) -> None:
        return None

    def warn(self, text: str) -> None:
        return None

    def error(self, text: str) -> None:
        return None

    def progress(self, label: str, elapsed: bool = False) -> AbstractContextManager[Progress]:
        return nullcontext(no_progress)

    def status(self, label: str) -> AbstractContextManager[object]:
        return nullcontext()

    def show(self, result: object) -> None:
        return None


SILENT = Silent()
