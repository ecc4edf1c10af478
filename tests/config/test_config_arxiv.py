"""The `[arxiv]` settings: their defaults, their rules, and NEWSLETTER_ARXIV_ENRICH."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import ArxivSettings, load_config
from tests.helpers import config_error, write_config


def test_defaults_fetch_from_arxiv_at_its_pace(tmp_path: Path) -> None:
    config = load_config(environ={}, cwd=tmp_path)
    assert config.arxiv == ArxivSettings()
    assert (config.arxiv.enrich, config.arxiv.api_url) == (
        True,
        "https://export.arxiv.org/api/query",
    )
    assert config.arxiv.interval == 3.0
    assert config.describe()["settings"]["arxiv"]["api_url"] == config.arxiv.api_url


def test_a_test_server_may_be_asked_faster(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[arxiv]\napi_url = "http://127.0.0.1:8000/api/query"\ninterval = 0\nenrich = false\n',
    )
    arxiv = load_config(path, environ={}).arxiv
    assert (arxiv.api_url, arxiv.interval, arxiv.enrich) == (
        "http://127.0.0.1:8000/api/query",
        0.0,
        False,
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "interval = 1",
            "arxiv.interval: 1 is too short for export.arxiv.org: its terms of use "
            "ask for at most one request every 3 seconds",
        ),
        (
            'api_url = "export.arxiv.org/api/query"',
            "arxiv.api_url: 'export.arxiv.org/api/query' "
            "is not an absolute http(s) URL without query or fragment",
        ),
        ('api_url = "https://export.arxiv.org/api/query?x=1"', "arxiv.api_url: "),
        ('api_url = "ftp://export.arxiv.org/api/query"', "arxiv.api_url: "),
        ("timeout = 0", "arxiv.timeout: 0 is out of range: it must be more than 0"),
        ("interval = 61", "arxiv.interval: 61 is out of range"),
        ("retries = 6", "arxiv.retries: 6 is out of range: it must be at least 0 and at most 5"),
        ("retry_delay = -1", "arxiv.retry_delay: -1 is out of range"),
        ('enrich = "yes"', "arxiv.enrich must be"),
        ("key = 1", "unknown key arxiv.key"),
    ],
)
def test_a_wrong_value_is_one_line_naming_the_key(tmp_path: Path, table: str, message: str) -> None:
    path = write_config(tmp_path, f"[arxiv]\n{table}\n")
    assert config_error(path, environ={}).startswith(f"{path}: {message}")


@pytest.mark.parametrize(
    ("value", "enrich"), [("0", False), ("false", False), ("1", True), ("YES", True), ("", False)]
)
def test_the_environment_switches_fetching_for_one_run(
    tmp_path: Path, value: str, enrich: bool
) -> None:
    path = write_config(tmp_path, "[arxiv]\nenrich = false\n")
    assert load_config(path, environ={"NEWSLETTER_ARXIV_ENRICH": value}).arxiv.enrich is enrich


def test_a_wrong_switch_names_the_variable(tmp_path: Path) -> None:
    message = config_error(environ={"NEWSLETTER_ARXIV_ENRICH": "maybe"}, cwd=tmp_path)
    assert message == "NEWSLETTER_ARXIV_ENRICH: 'maybe' is not one of 1, 0, true, false"
