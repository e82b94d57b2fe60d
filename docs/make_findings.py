"""Writes docs/findings.md from schemas/findings.json: ``python docs/make_findings.py > docs/findings.md``.

The catalog is the one source; tests/test_user_side.py checks the page is what this prints.
"""

from __future__ import annotations

import json
from itertools import groupby
from pathlib import Path

HEAD = """# Finding codes

Generated from `schemas/findings.json` by `docs/make_findings.py`: edit the catalog, then run
`python docs/make_findings.py > docs/findings.md`.

Every finding of `himfmt validate` has one of these codes. `himfmt explain CODE` prints the same
text in the terminal; the HTML report shows it beside the files. Severity `error` means a loader
crashes, skips data or reads something else than you meant; `warning`, that data is likely wrong;
`info`, that something is worth knowing. Codes marked *deep* are found only with `deep=true`, which
decodes every picture.
"""


def page(codes: dict[str, dict[str, object]]) -> str:
    out = [HEAD]
    for family, members in groupby(sorted(codes), key=lambda c: c.split(".")[0]):
        out.append(f"## {family}.*\n")
        for code in members:
            e = codes[code]
            deep = ", deep" if e.get("deep_only") else ""
            out.append(f"### `{code}` ({e['severity']}{deep})\n")
            out.append(f"{e['meaning']} **Breaks:** {e['breaks']} **Fix:** {e['fix']}\n")
    return "\n".join(out)


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    print(page(json.loads((root / "schemas" / "findings.json").read_text())["codes"]), end="")
