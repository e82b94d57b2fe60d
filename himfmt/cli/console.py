"""The two consoles (results on stdout, progress and messages on stderr) and tables that fit them.

Output that is not a terminal (a pipe, a job log) is as wide as ``COLUMNS``
says, or :data:`LOG_WIDTH`: a log is read later, in a wider window, and a
80-column default would break every long path. Tables never break an
identifier or a path: their columns get widths that keep every cell's
longest word whole, and a table that cannot fit so is printed as one record
per row instead, broken between its fields onto indented lines.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, TextIO

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from himfmt.feedback import Advance
from himfmt.text import printable

LOG_WIDTH = 160


def _width(stream: TextIO) -> int | None:
    """``COLUMNS`` when set; None (the terminal's own width) on a terminal; else :data:`LOG_WIDTH`."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    return None if stream.isatty() else LOG_WIDTH


out = Console(highlight=False, soft_wrap=True, width=_width(sys.stdout))
err = Console(stderr=True, highlight=False, soft_wrap=True, width=_width(sys.stderr))


def safe(text: str) -> str:
    """Printable and escaped for Rich markup: for any text that comes from the user's files."""
    return escape(printable(text))


def error(message: str) -> None:
    err.print(f"[bold red]error:[/] {safe(message)}")


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {safe(message)}")


def _column_range(console: Console, table: Table, index: int) -> tuple[int, int]:
    """(narrowest width keeping every word whole, natural width) of one column's cells and header (no padding)."""
    col = table.columns[index]
    cells = [col.header, *col.cells]
    options = console.options.update(no_wrap=col.no_wrap)
    ranges = [Measurement.get(console, options, c) for c in cells if c is not None]
    low = max((r.minimum for r in ranges), default=1)
    high = max((r.maximum for r in ranges), default=1)
    return (high if col.no_wrap else low), high


def fit(table: Table, console: Console, width: int | None = None) -> RenderableType:
    """``table`` with column widths that keep words whole within ``width``, or its rows as records.

    The title is printed above the table as a plain line, so a long path in it is never wrapped either.
    """
    width = width or console.width
    ranges = [_column_range(console, table, i) for i in range(len(table.columns))]
    extra = len(ranges) * (table.padding[1] + table.padding[3]) + (len(ranges) + 1 if table.box else 0)
    title = Text(str(table.title)) if table.title else None
    table.title = None
    if sum(low for low, _ in ranges) + extra > width:
        return records(table, title, width)
    spare = width - extra - sum(low for low, _ in ranges)
    want = sum(high - low for low, high in ranges)
    for col, (low, high) in zip(table.columns, ranges):
        col.width = low + (high - low if want <= spare else (high - low) * spare // max(1, want))
    return Group(title, table) if title is not None else table


RECORD_INDENT = "    "


def records(table: Table, title: Text | None, width: int) -> Group:
    """One record per row: ``first cell: header value; header value; ...``, broken between fields (never
    inside one: a path stays whole) onto indented lines where it would pass ``width``."""
    headers = [str(c.header) for c in table.columns]
    columns = [
        [Text.from_markup(c) if isinstance(c, str) else c if isinstance(c, Text) else Text(str(c)) for c in col.cells]
        for col in table.columns
    ]
    lines: list[RenderableType] = [title] if title is not None else []
    for row in zip(*columns):
        fields = [Text.assemble(f"{h} " if h else "", v) for h, v in zip(headers[1:], row[1:]) if str(v)]
        line = Text.assemble(row[0], ":")
        for k, f in enumerate(fields):
            piece = Text.assemble(" ", f, ";" if k < len(fields) - 1 else "")
            if line.cell_len + piece.cell_len > width and line.plain.strip():
                lines.append(line)
                line = Text(RECORD_INDENT[1:])  # the piece brings the fourth space
            line.append_text(piece)
        lines.append(line)
    return Group(*lines)


def show(table: Table, console: Console | None = None) -> None:
    to = console or out
    to.print(fit(table, to))


def paragraph(markup: str | Text, console: Console, more: int = len(RECORD_INDENT)) -> Text:
    """Rich markup (or a Text) broken at spaces to fit ``console``, its next lines indented ``more`` than
    its own (a finding's explanation, a fix); a word longer than a line (a long path) stays whole."""
    text = Text.from_markup(markup) if isinstance(markup, str) else markup.copy()
    lead = len(text.plain) - len(text.plain.lstrip(" "))
    room = console.width - lead - more
    if text.cell_len <= console.width or max(map(len, text.plain.split()), default=0) > room:
        return text  # it fits; or a word that cannot fit, never cut: the line stays one line
    lines = text.wrap(console, room)
    for line in lines:
        line.rstrip()
    for line in lines[1:]:
        line.pad_left(lead + more)
    return Text("\n").join(lines)


def lines(texts: Iterable[str], to: Console | None = None) -> None:
    """Plain lines (never markup: they hold paths; control characters shown) on stdout (or ``to``), each
    fitted to the terminal."""
    for text in texts:
        (to or out).print(hang(printable(text)), markup=False)


def hang(text: str, more: int = len(RECORD_INDENT)) -> str:
    """Plain text (help, notes) as :func:`paragraph` lays it out on stdout, line by line."""
    return "\n".join(paragraph(Text(line), out, more).plain for line in text.splitlines())


# Seconds between progress lines in a log (HIMFMT_PROGRESS_SECONDS sets it; 0: a line at every step).
def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get("HIMFMT_PROGRESS_SECONDS", "10")))
    except ValueError:
        return 10.0


class ProgressLines:
    """Progress for a log: ``label: done/total (pct), rate/s, ETA`` at a steady interval, and when a step
    that took a second or more is done."""

    def __init__(self, console: Console, label: str, total: int, interval: float) -> None:
        self.console, self.label, self.total, self.interval = console, label, total, interval
        self.done = 0
        self.start = self.last = time.monotonic()

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        finished = self.done >= self.total and now - self.start >= min(self.interval, 1.0)  # a quick step says nothing
        if now - self.last >= self.interval or finished:
            self.last = now
            self.console.print(self.line(now), highlight=False, markup=False)

    def line(self, now: float) -> str:
        spent = max(now - self.start, 1e-9)
        rate = self.done / spent
        pct = f" ({100 * self.done // self.total}%)" if self.total else ""
        eta = f", ETA {(self.total - self.done) / rate:.0f} s" if rate > 0 and self.done < self.total else f", {spent:.1f} s"
        return f"{self.label}: {self.done}/{self.total}{pct}, {rate:.1f}/s{eta}"


@contextmanager
def progress(label: str, elapsed: bool = False) -> Iterator[Callable[..., Advance]]:
    """Progress on stderr: live bars on a terminal, a line at a steady interval in a log.

    Yields ``bar(total, label=label) -> advance(n)``, the one progress signature.
    """
    if not err.is_terminal:
        interval = _interval()

        def line_bar(total: int, description: str = label) -> Advance:
            return ProgressLines(err, description, total, interval).advance

        yield line_bar
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn() if elapsed else TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bars:

        def bar(total: int, description: str = label) -> Advance:
            task = bars.add_task(description, total=total)
            return lambda n: bars.advance(task, n)

        yield bar
