"""The README stays a front door and the docs speak to readers outside the team; the Configuration
page renders every variable of .env.example (docs/hooks/env_example.py, run by `make docs`)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("env_example", ROOT / "docs/hooks/env_example.py")
assert _spec and _spec.loader
env_example = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = env_example  # dataclasses look their module up there
_spec.loader.exec_module(env_example)

README_MAX_LINES = 250
PAGES = [ROOT / "README.md", ROOT / "bench/README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Words that only make sense inside the team's history: issue numbers, work sessions, the machine
# something was measured on, commit hashes (7–10 hex digits standing alone, not part of a UUID).
HISTORY = [
    re.compile(r"(?i)\b(issue|PR|pull request)s?\s*#?\d+"),
    re.compile(r"(?i)\b(this|that|earlier|last|a later|today's|the day's) sessions?\b(?!\s+cookie)"),
    re.compile(r"(?i)\bsession's\b"),
    re.compile(r"(?i)\b(this|the earlier|a faster|a slower) machine\b"),
    re.compile(r"(?<![\w\-/.:=+])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,10}(?![\w\-/.:=+])"),
]


def test_the_readme_is_a_front_door():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail to docs/"
    text = "\n".join(lines)
    for needed in ("make run", "make test", "```mermaid", "curl ", "Кратко по-русски"):
        assert needed in text, needed


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_speaks_of_the_teams_history(page):
    text = page.read_text(encoding="utf-8")
    found = [m.group(0) for pattern in HISTORY for m in pattern.finditer(text)]
    assert not found, f"{page.relative_to(ROOT)}: {found} (history belongs in CHANGELOG.md)"


def test_the_history_check_catches_what_it_is_for():
    samples = ["since issue 15", "on this session's machine", "at commit 7472b93", "(a39f6eb)", "on this machine"]
    for sample in samples:
        assert any(p.search(sample) for p in HISTORY), sample
    harmless = ["webhook-id: 5b0c7f0e-4d8e", "sessions and CSRF protection", "the session cookie", "#4821"]
    for sample in harmless:
        assert not any(p.search(sample) for p in HISTORY), sample


def test_the_readmes_relative_links_exist():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\((?!https?:|#|mailto:)([^)#\s]+)", text)
    assert targets
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert not missing, missing


def test_every_docs_page_is_in_the_nav():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = set(re.findall(r"^\s+- [^:\n]+: (\S+\.md)$", config, re.MULTILINE))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert pages == nav, (pages - nav, nav - pages)
    assert "docs/hooks/env_example.py" in config
    assert env_example.MARKER in (ROOT / "docs/configuration.md").read_text(encoding="utf-8")


def test_the_configuration_page_renders_every_variable_of_env_example():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    declared = re.findall(r"^# ([A-Z][A-Z0-9_]*)=", text, re.MULTILINE)
    assert len(declared) > 50
    rendered = env_example.render(text)
    rows = [line for line in rendered.splitlines() if line.startswith("| `")]
    shown = re.findall(r"`([A-Z][A-Z0-9_]*)`", "\n".join(row.split(" | ")[0] for row in rows))
    assert shown == declared
    intro, sections = env_example.parse(text)
    assert intro and [s.title for s in sections][:2] == ["Both services", "docker-compose only"]
    assert all(entry.description for section in sections for entry in section.entries)


def test_a_table_cell_keeps_code_and_escapes_what_markdown_would_read():
    text = "# ===== S =====\n# Links <site>/r/<code>/ | see SITE_URL, `A_B` (with APP_ENV=production).\n# X_Y=1\n"
    _, sections = env_example.parse(text)
    assert sections[0].entries[0].variables == [("X_Y", "1")]
    cell = "Links &lt;site&gt;/r/&lt;code&gt;/ \\| see `SITE_URL`, `A_B` (with `APP_ENV=production`)."
    assert f"| `X_Y` | `1` | {cell} |" in env_example.render(text)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("# ===== S =====\nX=1\n", "line 2: every line is a comment"),
        ("# X=1\n", "line 1: a variable before the first"),
        ("# ===== S =====\n# described, then nothing\n\n# Y=2\n", "line 2: a comment that no variable follows"),
        ("# ===== S =====\n# Y=2\n# dangling\n", "ends with a comment"),
    ],
)
def test_a_malformed_env_example_fails_the_build(text, complaint):
    with pytest.raises(ValueError, match=complaint):
        env_example.parse(text)
