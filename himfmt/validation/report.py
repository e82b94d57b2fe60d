"""The validation report: JSON (the report format of `report=`) and standalone HTML (the terminal view is the CLI's)."""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from himfmt.text import plural
from himfmt.validation.catalog import RANK, Finding, catalog

SHOW_PATHS = 5  # first paths shown per finding group


@dataclass
class DatasetReport:
    path: str
    layout: str
    splits: list[str]
    samples: int = 0
    files: int = 0
    findings: list[Finding] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        sev = Counter(f.severity for f in self.findings)
        return {"samples": self.samples, "files": self.files, "errors": sev["error"], "warnings": sev["warning"], "infos": sev["info"]}

    def groups(self) -> list[tuple[str, list[Finding]]]:
        by: dict[str, list[Finding]] = {}
        for f in self.findings:
            by.setdefault(f.code, []).append(f)
        return sorted(by.items(), key=lambda kv: (-RANK[kv[1][0].severity], kv[0]))


@dataclass
class Report:
    root: str
    datasets: list[DatasetReport] = field(default_factory=list)
    deep: bool = False  # every file was decoded too

    @property
    def findings(self) -> list[Finding]:
        return [f for d in self.datasets for f in d.findings]

    def worst(self) -> str | None:
        return max((f.severity for f in self.findings), key=RANK.__getitem__, default=None)

    def fails(self, fail_on: str) -> bool:
        worst = self.worst()
        return worst is not None and RANK[worst] >= RANK[fail_on]

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "deep": self.deep,
            "datasets": [
                {
                    "path": d.path,
                    "layout": d.layout,
                    "splits": d.splits,
                    "summary": d.summary(),
                    "findings": [f.as_dict() for f in d.findings],
                }
                for d in self.datasets
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Report":
        d = json.loads(text)
        return cls(
            d["root"],
            deep=d.get("deep", False),
            datasets=[
                DatasetReport(
                    x["path"],
                    x["layout"],
                    x["splits"],
                    x["summary"]["samples"],
                    x["summary"]["files"],
                    [Finding(**f) for f in x["findings"]],
                )
                for x in d["datasets"]
            ],
        )

    @classmethod
    def merge(cls, parts: list["Report"]) -> "Report":
        """The reports of shards of one validation: counts added, findings joined, each once."""
        out = cls(parts[0].root, deep=all(p.deep for p in parts))
        by_key: dict[tuple[str, str], DatasetReport] = {}
        for part in parts:
            for d in part.datasets:
                key = (d.path, d.layout)
                if key not in by_key:
                    by_key[key] = DatasetReport(d.path, d.layout, d.splits)
                    out.datasets.append(by_key[key])
                m = by_key[key]
                m.samples += d.samples
                m.files += d.files
                seen = {(f.code, f.path) for f in m.findings}
                m.findings += [f for f in d.findings if (f.code, f.path) not in seen]
        return out


def version() -> str:
    try:
        return package_version("himfmt")
    except PackageNotFoundError:
        return "(not installed)"


def next_step(report: Report, deep: bool) -> str:
    s = Counter(f.severity for f in report.findings)
    if not s:
        tail = "" if deep else " Run with deep=true to decode every file as well."
        return f"All clean: no findings.{tail}"
    return (
        f"{plural(s['error'], 'error')}, {plural(s['warning'], 'warning')}. Fix the errors first; "
        "'himfmt explain CODE' says what a code means, what it breaks and how to fix it ('himfmt explain' lists them all)."
    )


def to_html(report: Report, deep: bool, thumbs: dict[tuple[str, str], list[tuple[str, str]]] | None = None) -> str:
    """A standalone page; ``thumbs`` maps (dataset path, code) to (finding path, PNG data URI) pictures."""
    codes = catalog()
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(d.path or '.')}</td><td>{e(d.layout)}</td><td>{e(', '.join(d.splits))}</td>"
        + "".join(f"<td class=n>{v}</td>" for v in d.summary().values())
        + "</tr>"
        for d in report.datasets
    )
    groups = []
    for d in report.datasets:
        for code, group in d.groups():
            sev = group[0].severity
            items = "".join(f"<li><code>{e(f.path)}</code>: {e(f.message)}</li>" for f in group[:50])
            more = f"<li>... and {len(group) - 50} more</li>" if len(group) > 50 else ""
            info = codes[code]
            pics = "".join(
                f'<figure><img src="{uri}" alt="{e(path)}"><figcaption><code>{e(path)}</code></figcaption></figure>'
                for path, uri in (thumbs or {}).get((d.path, code), [])
            )
            groups.append(
                f"<section class={sev}><h3>{e(sev)} <code>{e(code)}</code> x{len(group)} in {e(d.path or '.')}</h3>"
                f"<p>{e(info['meaning'])} <b>Breaks:</b> {e(info['breaks'])} <b>Fix:</b> {e(info['fix'])}</p>"
                f"<div class=thumbs>{pics}</div><ul>{items}{more}</ul></section>"
            )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>himfmt validate {e(report.root)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px}}
.n{{text-align:right}}.thumbs{{display:flex;gap:8px;flex-wrap:wrap}}figure{{margin:0;font-size:small}}
section{{border-left:4px solid #999;padding-left:1em;margin:1em 0}}.error{{border-color:#c00}}.warning{{border-color:#e90}}</style>
</head><body><h1>himfmt validate</h1><p>root: <code>{e(report.root)}</code><br>
himfmt {e(version())}, {e(datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))};
{"deep pass: every file decoded" if deep else "structure pass only (names and headers; deep=true decodes every file)"}</p>
<table><tr><th>path</th><th>layout</th><th>splits</th><th>samples</th><th>files</th><th>errors</th><th>warnings</th><th>infos</th></tr>{rows}</table>
{"".join(groups)}<p>{e(next_step(report, deep))}</p></body></html>
"""
