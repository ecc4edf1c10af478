"""`newsletter config`: the settings in force, never the password; bad settings are
one error line before any command does anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from tests.helpers import SECRET, touch, write_config


def invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, args, env=env)


# --- The `newsletter config` command -------------------------------------------------------


def test_cli_config_json_prints_settings_with_password_masked(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "site",
        """
        [newsletter]
        from = "Weekly <weekly@example.com>"
        [smtp]
        host = "smtp.example.com"
        password_env = "MAIL_PASSWORD"
        """,
    )

    result = invoke(["--config", str(path), "config", "--json"], env={"MAIL_PASSWORD": SECRET})

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["file"] == str(path.resolve())
    assert document["root"] == str((tmp_path / "site").resolve())
    assert set(document["settings"]) == {
        "newsletter",
        "smtp",
        "schedule",
        "web",
        "bounces",
        "dkim",
        "inbox",
        "arxiv",
    }
    assert document["settings"]["newsletter"]["from"] == "Weekly <weekly@example.com>"
    assert document["settings"]["newsletter"]["title_zh"] == "AI 论文周报"
    assert document["settings"]["smtp"]["host"] == "smtp.example.com"
    assert document["settings"]["smtp"]["password_env"] == "MAIL_PASSWORD"
    assert document["settings"]["smtp"]["password"] == "(set)"
    assert document["settings"]["newsletter"]["digests"] == ["digests/*.md"]
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
@pytest.mark.parametrize("variable", ["NEWSLETTER_SMTP_PASSWORD", "NEWSLETTER_INBOX_PASSWORD"])
def test_cli_config_never_prints_the_password(tmp_path: Path, as_json: bool, variable: str) -> None:
    path = write_config(tmp_path, '[smtp]\nusername = "mailer"\n')
    args = ["--config", str(path), "config"] + (["--json"] if as_json else [])

    result = invoke(args, env={variable: SECRET})

    assert result.exit_code == 0, result.output
    assert "(set)" in result.stdout
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr


def test_cli_config_text_listing(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[smtp]\nport = 2525\n[schedule]\ntimezone = "UTC"\n')

    result = invoke(["--config", str(path), "config"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"# {path.resolve()}"
    assert "[smtp]" in lines
    assert "port = 2525" in lines
    assert 'timezone = "UTC"' in lines
    note = "# password: (not set), from the environment (NEWSLETTER_SMTP_PASSWORD), never from"
    assert any(line.startswith(note) for line in lines)
    assert not any(line.startswith("password =") for line in lines)
    again = write_config(tmp_path / "again", result.stdout)
    assert invoke(["--config", str(again), "config"]).stdout.splitlines()[1:] == lines[1:]


@pytest.mark.parametrize("variable", ["NEWSLETTER_SMTP_PASSWORD", "MAIL_PASSWORD"])
def test_cli_config_toml_is_a_file_config_accepts_again(tmp_path: Path, variable: str) -> None:
    path = write_config(
        tmp_path,
        """
        [newsletter]
        from = "Weekly <weekly@example.com>"
        digests = ["a/*.md", "b/*.md"]
        [smtp]
        port = 2525
        password_env = "MAIL_PASSWORD"
        [web]
        trusted_proxies = ["10.0.0.1"]
        [arxiv]
        enrich = false
        """,
    )
    env = {variable: SECRET, "NEWSLETTER_ARXIV_ENRICH": ""}

    result = invoke(["--config", str(path), "config", "--toml"], env=env)

    assert result.exit_code == 0, result.output
    assert SECRET not in result.stdout and SECRET not in result.stderr
    assert (
        "# password: (set), from the environment (NEWSLETTER_SMTP_PASSWORD or MAIL_PASSWORD)"
        in result.stdout
    )
    assert (
        "# the relay's port (587 for starttls, 465 for tls) (default: 1025)\nport = 2525"
        in result.stdout
    )
    again = write_config(tmp_path / "again", result.stdout)
    first = invoke(["--config", str(path), "config", "--json"], env=env)
    second = invoke(["--config", str(again), "config", "--json"], env=env)
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["settings"] == json.loads(first.stdout)["settings"]


def test_cli_config_applies_environment_overrides(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[smtp]\nhost = "file.example.org"\nport = 25\n')
    env = {"NEWSLETTER_SMTP_HOST": "env.example.org", "NEWSLETTER_SMTP_PORT": "587"}

    result = invoke(["--config", str(path), "config", "--json"], env=env)

    assert result.exit_code == 0, result.output
    smtp = json.loads(result.stdout)["settings"]["smtp"]
    assert smtp["host"] == "env.example.org"
    assert smtp["port"] == 587


def test_cli_config_file_from_newsletter_config_variable(tmp_path: Path) -> None:
    path = write_config(tmp_path / "site", '[newsletter]\ntitle_en = "Via variable"\n')

    result = invoke(["config", "--json"], env={"NEWSLETTER_CONFIG": str(path)})

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["file"] == str(path.resolve())
    assert document["settings"]["newsletter"]["title_en"] == "Via variable"


def test_cli_config_option_wins_over_variable(tmp_path: Path) -> None:
    from_variable = write_config(tmp_path / "a", '[newsletter]\ntitle_en = "Variable"\n')
    explicit = write_config(tmp_path / "b", '[newsletter]\ntitle_en = "Option"\n')

    result = invoke(
        ["--config", str(explicit), "config", "--json"],
        env={"NEWSLETTER_CONFIG": str(from_variable)},
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["settings"]["newsletter"]["title_en"] == "Option"


def test_cli_config_without_a_file_shows_defaults(tmp_path: Path, nowhere: Path) -> None:
    result = invoke(["config", "--json"])

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["file"] is None
    assert document["root"] == str(tmp_path.resolve())
    assert document["settings"]["smtp"]["port"] == 1025
    assert document["settings"]["smtp"]["password"] == "(not set)"


def test_cli_config_finds_file_in_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path, '[newsletter]\ntitle_en = "Local"\n')
    monkeypatch.chdir(tmp_path)

    result = invoke(["config", "--json"])

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["file"] == str(path.resolve())
    assert document["settings"]["newsletter"]["title_en"] == "Local"


def assert_one_error_line(result: Result, *expected: str) -> None:
    """Exit 1, nothing on stdout, one `Error:` line on stderr naming `expected`."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error:")
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in lines[0]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param('[smtp]\nhostname = "x"\n', "smtp.hostname", id="unknown-key"),
        pytest.param('[smtp]\nport = "abc"\n', "smtp.port", id="port-string"),
        pytest.param('[smtp]\nsecurity = "ssl"\n', "smtp.security", id="security"),
        pytest.param('[schedule]\ntimezone = "Mars/Olympus"\n', "schedule.timezone", id="tz"),
        pytest.param("[smtp\nport = = 1\n", "not valid TOML", id="invalid-toml"),
    ],
)
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_cli_bad_config_is_one_error_line(
    tmp_path: Path, text: str, key: str, as_json: bool
) -> None:
    path = write_config(tmp_path, text)
    args = ["--config", str(path), "config"] + (["--json"] if as_json else [])

    result = invoke(args, env={"NEWSLETTER_SMTP_PASSWORD": SECRET})

    assert_one_error_line(result, key, str(path.resolve()))
    assert SECRET not in result.stderr


def test_cli_password_in_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = write_config(tmp_path, f'[smtp]\npassword = "{SECRET}"\n')

    result = invoke(["--config", str(path), "config", "--json"])

    assert_one_error_line(result, "smtp.password", "password_env", str(path.resolve()))
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr


def test_cli_missing_config_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"

    result = invoke(["--config", str(missing), "config", "--json"])

    assert_one_error_line(result, str(missing), "no such configuration file")


def test_cli_missing_file_from_variable_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"

    result = invoke(["config"], env={"NEWSLETTER_CONFIG": str(missing)})

    assert_one_error_line(result, str(missing), "no such configuration file")


def test_cli_non_numeric_port_variable_is_an_error(tmp_path: Path) -> None:
    path = write_config(tmp_path)

    result = invoke(["--config", str(path), "config"], env={"NEWSLETTER_SMTP_PORT": "abc"})

    assert_one_error_line(result, "NEWSLETTER_SMTP_PORT", "'abc'")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[newsletter]\nfrom = "not an address"\n', "newsletter.from"),
        ('[newsletter]\nbase_url = "digest.example.org"\n', "newsletter.base_url"),
        ("[smtp]\nconnections = 100000000\n", "smtp.connections"),
    ],
)
@pytest.mark.parametrize("command", [["config"], ["compose", "--dry-run"]])
def test_cli_refuses_a_bad_sender_link_or_number_before_doing_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, key: str, command: list[str]
) -> None:
    path = write_config(tmp_path, text)
    touch(tmp_path / "digests" / "a.md")
    monkeypatch.chdir(tmp_path)

    result = invoke(command)

    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: {path.resolve()}: {key}: ")


# --- The postal address warning ------------------------------------------------------------


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_cli_config_warns_when_the_postal_address_is_empty(tmp_path: Path, as_json: bool) -> None:
    path = write_config(tmp_path, '[newsletter]\npostal_address = ""\n')
    args = ["--config", str(path), "config"] + (["--json"] if as_json else [])

    result = invoke(args)

    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "postal_address" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: newsletter.postal_address is empty")
    assert "postal address" in warnings[0]
    assert "warning" not in result.stdout
    if as_json:
        json.loads(result.stdout)  # the warning stays out of the JSON document


def test_cli_config_is_quiet_when_the_postal_address_is_set(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[newsletter]\npostal_address = """1 Main St\nBeijing"""\n')

    result = invoke(["--config", str(path), "config"])

    assert result.exit_code == 0, result.output
    assert "postal_address" not in result.stderr
    assert 'postal_address = "1 Main St\\nBeijing"' in result.stdout.splitlines()
