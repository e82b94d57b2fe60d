"""DVM pair lists: ``image+<fg file>+<bg file>`` / ``video+<NNNN>+<bg file>``, one per line.

Names may hold spaces and parentheses (``retriever-348572_1920 (1).png``);
the fg name is everything between the first and the last ``+``. A name
that would leave its folder (``..``, ``/``, an absolute or drive path) is
refused: DVM's generator would join it onto the source root as is.
"""

from __future__ import annotations

from typing import NamedTuple

from himfmt.errors import HimfmtError

KINDS = ("image", "video")


class Pair(NamedTuple):
    kind: str  # 'image' or 'video'
    fg: str  # fg file name (image) or clip folder name (video)
    bg: str  # background video file name
    line: int  # 1-based line number in its list

    @property
    def sequence(self) -> str:
        """The composed sequence name DVM gives this pair."""
        fg = self.fg.rsplit(".", 1)[0] if self.kind == "image" else self.fg
        return f"{self.kind}_{fg}_{self.bg.rsplit('.', 1)[0]}"


def _check_name(name: str, where: str, line: int) -> None:
    bad = not name or name in (".", "..") or "/" in name or "\\" in name or (len(name) > 1 and name[1] == ":")
    if bad:
        raise HimfmtError(f"line {line}: name {name!r} is not a plain file name (it would leave its folder)", where)


def parse_pairs(text: str, where: str, problems: list[str] | None = None) -> list[Pair]:
    """Parse a pair list; raises HimfmtError naming the file and line on a bad line.

    With ``problems``, a bad line is appended there (as one message) and skipped instead.
    """
    pairs = []
    for n, raw in enumerate(text.splitlines(), 1):
        if problems is not None:
            try:
                pairs += [p._replace(line=n) for p in parse_pairs(raw, where)]
            except HimfmtError as exc:
                problems.append(str(exc).split(": ", 1)[-1].replace("line 1:", f"line {n}:"))
            continue
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("+")
        if len(parts) < 3 or parts[0] not in KINDS:
            raise HimfmtError(f"line {n}: expected 'image+<fg>+<bg>' or 'video+<NNNN>+<bg>', got {line!r}", where)
        kind, fg, bg = parts[0], "+".join(parts[1:-1]), parts[-1]
        _check_name(fg, where, n)
        _check_name(bg, where, n)
        pairs.append(Pair(kind, fg, bg, n))
    return pairs


def format_pairs(pairs: list[Pair]) -> str:
    return "".join(f"{p.kind}+{p.fg}+{p.bg}\n" for p in pairs)


def looks_like_pairs(text: str) -> bool:
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return first.split("+", 1)[0] in KINDS and first.count("+") >= 2
