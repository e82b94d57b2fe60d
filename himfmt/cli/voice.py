"""The terminal's :class:`himfmt.feedback.Voice`: results on stdout, messages and progress on stderr."""

from __future__ import annotations

from contextlib import AbstractContextManager

from himfmt.cli import console, views
from himfmt.feedback import Progress


class ConsoleVoice:
    def say(self, text: str) -> None:
        console.lines([text])  # plain (a path is never markup), broken between words to fit the terminal

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
