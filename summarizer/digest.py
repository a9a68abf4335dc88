"""The daily digest an editor opens with their coffee: Markdown and plain HTML.

Built from report dictionaries (``JobReport.to_dict``) so that every run of a
day contributes; all article text is escaped.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

FLAG_NOTES = {
    "truncated_input": "the summariser saw only the start of the article",
    "empty_output": "a model produced nothing for part of it",
    "encoding_fallback": "the file was not UTF-8 and was read as Windows-1252",
}

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def day_articles(reports: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest entry per article key over the given run reports (oldest first)."""
    latest: dict[str, dict[str, Any]] = {}
    for report in reports:
        for entry in report.get("articles", []):
            latest.pop(entry["key"], None)
            latest[entry["key"]] = entry
    return list(latest.values())


def _link(path: str, base: Path) -> str:
    try:
        relative = os.path.relpath(path, base)
    except ValueError:
        relative = path
    return quote(relative.replace(os.sep, "/"))


def _file_label(path: str) -> str:
    name = Path(path).name
    for suffix, label in (
        (".meta.json", "meta"),
        (".results.jsonl", "results"),
        (".translation.", "translation"),
        (".summary.", "summary"),
    ):
        if suffix in name:
            if label == "summary":
                return f"summary ({name.rsplit('.', 2)[-2]})"
            return label
    return name


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def render_markdown(day: str, entries: list[dict[str, Any]], base: Path) -> str:
    """The digest as Markdown; links are relative to ``base`` (the digest's folder)."""
    done = [e for e in entries if e["status"] == "ok"]
    failed = [e for e in entries if e["status"] == "failed"]
    lines = [f"# Digest {day}", "", f"{len(done)} articles done, {len(failed)} failed.", ""]
    for entry in done:
        title = entry["title_translation"] or entry["title"] or entry["key"]
        lines += [f"## {_md(title)}", ""]
        if entry["title"]:
            lines += [f"*{_md(entry['title'])}*", ""]
        if entry["flags"]:
            notes = "; ".join(f"{flag}: {FLAG_NOTES.get(flag, flag)}" for flag in entry["flags"])
            lines += [f"**Check before use:** {_md(notes)}", ""]
        lines += [f"**Summary (English):** {_md(entry['summary_translation'])}", ""]
        lines += [f"**Résumé :** {_md(entry['summary'])}", ""]
        links = " · ".join(
            f"[{_file_label(path)}]({_link(path, base)})" for path in entry["outputs"]
        )
        lines += [f"`{entry['key']}`: {links}", ""]
    if failed:
        lines += ["## Failed", ""]
        lines += [f"- `{entry['key']}`: {_md(entry.get('error') or '')}" for entry in failed]
        lines.append("")
    return "\n".join(lines)


def render_html(day: str, entries: list[dict[str, Any]], base: Path) -> str:
    """The digest as one plain, self-contained HTML page."""
    esc = html.escape
    done = [e for e in entries if e["status"] == "ok"]
    failed = [e for e in entries if e["status"] == "failed"]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Digest {esc(day)}</title>",
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.5}"
        "article{border-top:1px solid #ccc;padding:.5em 0}.flags{background:#fff3cd;padding:.3em}"
        ".key{color:#666;font-size:.9em}</style></head><body>",
        f"<h1>Digest {esc(day)}</h1>",
        f"<p>{len(done)} articles done, {len(failed)} failed.</p>",
    ]
    for entry in done:
        title = entry["title_translation"] or entry["title"] or entry["key"]
        parts.append(f"<article><h2>{esc(title)}</h2>")
        if entry["title"]:
            parts.append(f'<p lang="fr"><em>{esc(entry["title"])}</em></p>')
        if entry["flags"]:
            notes = "; ".join(f"{flag}: {FLAG_NOTES.get(flag, flag)}" for flag in entry["flags"])
            parts.append(f'<p class="flags">Check before use: {esc(notes)}</p>')
        parts.append(f"<p><strong>Summary:</strong> {esc(entry['summary_translation'])}</p>")
        parts.append(f'<p lang="fr"><strong>Résumé :</strong> {esc(entry["summary"])}</p>')
        links = " · ".join(
            f'<a href="{esc(_link(path, base))}">{esc(_file_label(path))}</a>'
            for path in entry["outputs"]
        )
        parts.append(f'<p class="key">{esc(entry["key"])}: {links}</p></article>')
    if failed:
        parts.append("<h2>Failed</h2><ul>")
        parts += [
            f"<li><code>{esc(entry['key'])}</code>: {esc(entry.get('error') or '')}</li>"
            for entry in failed
        ]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
