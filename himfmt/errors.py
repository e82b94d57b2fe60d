"""Errors a user can act on: each names the path concerned and maps to an exit code."""

from __future__ import annotations


class HimfmtError(Exception):
    """A problem with the user's input or arguments; printed as one line, exit code 2."""

    exit_code = 2

    def __init__(self, message: str, path: str | None = None, details: list[str] | None = None) -> None:
        self.path = path
        self.details = details or []  # one line each under the message (refused members, ...)
        super().__init__(f"{path}: {message}" if path else message)


class BadInputError(HimfmtError):
    """A file's content is unusable (corrupt, wrong bit depth, too large)."""


class UnreadableError(BadInputError):
    """A file that exists but cannot be opened (permissions, an I/O error): not the same as corrupt."""


class WriteError(HimfmtError):
    """Writing the output failed (disk full, read-only, permissions): the run stops at the first one."""
