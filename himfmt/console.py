"""The two consoles: results on stdout, progress and messages on stderr."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from .text import safe
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def error(message: str) -> None:
    err.print(f"[bold red]error:[/] {safe(message)}")


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {safe(message)}")


Advance = Callable[[int], None]


@contextmanager
def progress(label: str, elapsed: bool = False) -> Iterator[Callable[..., Advance]]:
    """Progress bars on stderr (only on a terminal); yields ``bar(total, label=label) -> advance(n)``."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn() if elapsed else TimeRemainingColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bars:
        def bar(total: int, description: str = label) -> Advance:
            task = bars.add_task(description, total=total)
            return lambda n: bars.advance(task, n)
        yield bar
