"""The shipped systemd units (deploy/systemd/), checked by `systemd-analyze verify`.

The units name the workspace /srv/newsletter; the test puts them in a folder of its
own with only that path replaced (by a workspace whose `.venv/bin/newsletter` is this
checkout's), so that verify checks the files as shipped, executables included.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

UNITS = ROOT / "deploy" / "systemd"
ANALYZE = shutil.which("systemd-analyze")


def test_the_units_name_one_workspace_and_harden_the_services() -> None:
    for unit in sorted(UNITS.glob("*.service")):
        text = unit.read_text(encoding="utf-8")
        for line in (
            "User=newsletter",
            "WorkingDirectory=/srv/newsletter",
            "EnvironmentFile=/etc/newsletter/secrets.env",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ReadWritePaths=/srv/newsletter",
            "PrivateTmp=yes",
        ):
            assert f"\n{line}\n" in text, f"{unit.name}: no {line}"
    assert "\nUMask=0077\n" in (UNITS / "newsletter-serve.service").read_text(encoding="utf-8")
    timer = (UNITS / "newsletter-weekly.timer").read_text(encoding="utf-8")
    assert "\nUnit=newsletter-weekly.service\n" in timer
    assert "ExecStart=/srv/newsletter/.venv/bin/newsletter run-once\n" in (
        (UNITS / "newsletter-weekly.service").read_text(encoding="utf-8")
    )


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    workspace = tmp_path / "srv"
    (workspace / ".venv" / "bin").mkdir(parents=True)
    installed = Path(sys.executable).parent / "newsletter"
    assert installed.exists(), "run the tests from the project's .venv (make test)"
    (workspace / ".venv" / "bin" / "newsletter").symlink_to(installed)
    units = tmp_path / "units"
    units.mkdir()
    for unit in UNITS.iterdir():
        text = unit.read_text(encoding="utf-8").replace("/srv/newsletter", str(workspace))
        (units / unit.name).write_text(text, encoding="utf-8")
    assert ANALYZE
    checked = subprocess.run(
        [ANALYZE, "verify", *sorted(str(u) for u in units.iterdir())],
        capture_output=True,
        text=True,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == "", checked.stderr
