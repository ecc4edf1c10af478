"""The documentation site: it builds with `mkdocs build --strict` (no broken link, no
page left out of the navigation), its reference pages are what the code says now,
and every configuration section and every command is in it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click

from newsletter.cli import cli
from newsletter.config.settings import SECTIONS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert build.returncode == 0, build.stderr[-3000:]
    assert (tmp_path / "going-live" / "index.html").is_file()
    assert (tmp_path / "configuration" / "index.html").is_file()


def test_the_reference_pages_are_current() -> None:
    check = subprocess.run(
        [sys.executable, "scripts/docs_reference.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_every_section_and_every_command_is_documented() -> None:
    configuration = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f"### [{section}]" in configuration, section
    commands = (DOCS / "commands.md").read_text(encoding="utf-8")
    names = [name for name, command in cli.commands.items() if not command.hidden]
    for name in names:
        assert f"## newsletter {name}\n" in commands, name
        command = cli.commands[name]
        if isinstance(command, click.Group):
            for sub in command.commands:
                assert f"## newsletter {name} {sub}\n" in commands, (name, sub)


def test_the_readme_is_a_front_door() -> None:
    """At most 250 lines, and every page it links exists."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    for target in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / target).is_file(), target
