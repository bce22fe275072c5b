"""MkDocs hook: the configuration page's variable tables, rendered from `.env.example`.

`.env.example` is the one list of the environment variables (infra/scripts/compose_check.py checks
that it names every variable read), so the site renders it instead of keeping a copy. A page line
`<!-- env-example -->` becomes one Markdown section per `# ===== Title ====` banner of the file,
each a table of its variables with the value the file shows and the comment above them.

The file's format, which `parse` enforces (anything else is a `ValueError` and fails the build):
- every non-blank line is a comment (`#`); a blank line ends a block;
- a line `# NAME=value` declares a variable (NAME in upper case); the comment lines just above a
  run of such lines describe the whole run;
- the comment lines before the first banner are the file's introduction.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARKER = "<!-- env-example -->"
_BANNER = re.compile(r"^# =+ (?P<title>.+?) =+$")
_VARIABLE = re.compile(r"^# (?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")
# A variable named in prose, with the value it is given there if any (`APP_ENV=production`).
_IDENTIFIER = re.compile(r"(?<![`\w])([A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9](?:=[^\s,;)]*[^\s,;).])?)(?![`\w])")


@dataclass
class Entry:
    """A run of variables (name, value as written) and the comment lines that describe them."""

    variables: list[tuple[str, str]] = field(default_factory=list)
    description: list[str] = field(default_factory=list)


@dataclass
class Section:
    title: str
    entries: list[Entry] = field(default_factory=list)


def parse(text: str) -> tuple[list[str], list[Section]]:
    """Split `.env.example`'s text into its introduction (comment lines) and its sections.

    Raises `ValueError` naming the line for a line that is neither blank nor a comment, a variable
    before the first banner, or a comment in a section that no variable follows in its block.
    """
    intro: list[str] = []
    sections: list[Section] = []
    pending: list[str] = []  # comment lines waiting for the variables they describe
    last: Entry | None = None  # the entry the previous line added a variable to
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if line and not line.startswith("#"):
            raise ValueError(f".env.example line {number}: every line is a comment, `# NAME=value` for a variable")
        banner = _BANNER.match(line)
        if not line or banner:
            if pending and sections:
                raise ValueError(f".env.example line {number - 1}: a comment that no variable follows")
            pending, last = [], None
            if banner:
                sections.append(Section(banner["title"]))
        elif variable := _VARIABLE.match(line):
            if not sections:
                raise ValueError(f".env.example line {number}: a variable before the first `# ===== Title` banner")
            if pending or last is None:
                last = Entry(description=pending)
                sections[-1].entries.append(last)
            last.variables.append((variable["name"], variable["value"]))
            pending = []
        elif sections:
            pending.append(line.removeprefix("#").strip())
        else:
            intro.append(line.removeprefix("#").strip())
    if pending and sections:
        raise ValueError(".env.example ends with a comment that no variable follows")
    return intro, sections


def _prose(text: str) -> str:
    """One table cell's text: variable names as code; outside code, HTML-looking text and pipes escaped."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):  # the even parts lie outside code spans
        escaped = html.escape(parts[i], quote=False).replace("|", "\\|")
        parts[i] = _IDENTIFIER.sub(r"`\1`", escaped)
    return "`".join(parts)


def render(text: str) -> str:
    """The Markdown for `.env.example`'s text: its introduction, then a `##` section per banner."""
    intro, sections = parse(text)
    out = [_prose(" ".join(paragraph)) + "\n" for paragraph in _paragraphs(intro)]
    for section in sections:
        out += [f"## {section.title}\n", "| variable | default or example | what it does |", "|---|---|---|"]
        for entry in section.entries:
            names = "<br>".join(f"`{name}`" for name, _ in entry.variables)
            values = "<br>".join(f"`{value}`" if value else "(empty)" for _, value in entry.variables)
            out.append(f"| {names} | {values} | {_prose(' '.join(entry.description))} |")
        out.append("")
    return "\n".join(out)


def _paragraphs(lines: list[str]) -> list[list[str]]:
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """MkDocs event: replace the marker with the tables; the configuration page must carry it."""
    if MARKER not in markdown:
        if page.file.src_uri == "configuration.md":
            from mkdocs.exceptions import PluginError  # type: ignore[import-not-found]  # the site's venv only

            raise PluginError(f"docs/configuration.md lost its {MARKER} line: the variables would not be shown")
        return markdown
    source = Path(config["config_file_path"]).parent / ".env.example"
    return markdown.replace(MARKER, render(source.read_text(encoding="utf-8")))
