"""Errors a user can act on: each names the path concerned and maps to an exit code."""
from __future__ import annotations


class HimfmtError(Exception):
    """A problem with the user's input or arguments; printed as one line, exit code 2."""

    exit_code = 2

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class BadInputError(HimfmtError):
    """A file's content is unusable (corrupt, wrong bit depth, too large)."""
