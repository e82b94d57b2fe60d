"""The terminal's :class:`himfmt.feedback.Voice`: results on stdout, messages and progress on stderr."""

from __future__ import annotations

from contextlib import AbstractContextManager

from himfmt.cli import console, views
from himfmt.feedback import Progress
from himfmt.text import printable


class ConsoleVoice:
    def say(self, text: str) -> None:
        console.out.print(printable(text), markup=False)

    def warn(self, text: str) -> None:
        console.warn(text)

    def error(self, text: str) -> None:
        console.error(text)

    def progress(self, label: str, elapsed: bool = False) -> AbstractContextManager[Progress]:
        return console.progress(label, elapsed)

    def status(self, label: str) -> AbstractContextManager[object]:
        return console.err.status(label)

    def show(self, result: object) -> None:
        views.show(result, console.out)


VOICE = ConsoleVoice()
