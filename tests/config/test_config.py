"""`newsletter/config.py`: where the configuration comes from and how paths resolve.

Every test writes a real `newsletter.toml` under pytest's `tmp_path`; the
environment is passed to `load_config` as `environ=`. The `workspace` fixture in
conftest.py clears the user's NEWSLETTER_* variables and runs each test inside
its `tmp_path`. What each value may be is tested in test_config_rules.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsletter.config import (
    NewsletterSettings,
    ScheduleSettings,
    SmtpSettings,
    load_config,
)
from newsletter.core.errors import ConfigError
from tests.helpers import SECRET, config_error, touch, write_config

# --- Finding the file ---------------------------------------------------------------------


def test_no_file_gives_all_defaults_and_root_is_cwd(tmp_path: Path, nowhere: Path) -> None:
    config = load_config(environ={}, cwd=tmp_path)

    assert config.path is None
    assert config.root == tmp_path.resolve()
    assert config.source == "the default configuration"
    assert config.newsletter == NewsletterSettings()
    assert config.smtp == SmtpSettings()
    assert config.schedule == ScheduleSettings()
    assert config.smtp_password == ""
    # A few defaults spelled out, as the README documents them.
    assert config.smtp.host == "localhost"
    assert config.smtp.port == 1025
    assert config.smtp.security == "none"
    assert config.newsletter.digests == ("digests/*.md",)
    assert config.schedule.timezone == "Asia/Shanghai"
    assert config.database_path == tmp_path.resolve() / "newsletter.db"
    assert config.issues_path == tmp_path.resolve() / "issues"
    assert config.templates_path == tmp_path.resolve() / "templates"


def test_file_in_working_directory_is_used(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[newsletter]\ntitle_en = "Found in cwd"\n')

    config = load_config(environ={}, cwd=tmp_path)

    assert config.path == path.resolve()
    assert config.root == tmp_path.resolve()
    assert config.source == str(path.resolve())
    assert config.newsletter.title_en == "Found in cwd"


def test_file_in_parent_directory_is_not_used(tmp_path: Path) -> None:
    write_config(tmp_path, '[newsletter]\ntitle_en = "Parent"\n')
    child = tmp_path / "child"
    child.mkdir()

    config = load_config(environ={}, cwd=child)

    assert config.path is None
    assert config.root == child.resolve()
    assert config.newsletter.title_en == NewsletterSettings().title_en


def test_explicit_path_wins_over_working_directory_file(tmp_path: Path) -> None:
    write_config(tmp_path, '[newsletter]\ntitle_en = "In cwd"\n')
    chosen = write_config(tmp_path / "site", '[newsletter]\ntitle_en = "Chosen"\n')

    config = load_config(chosen, environ={}, cwd=tmp_path)

    assert config.path == chosen.resolve()
    assert config.root == (tmp_path / "site").resolve()
    assert config.newsletter.title_en == "Chosen"


def test_explicit_file_with_another_name_is_used(tmp_path: Path) -> None:
    chosen = write_config(tmp_path, "[smtp]\nport = 2525\n", name="staging.toml")

    config = load_config(str(chosen), environ={}, cwd=tmp_path)

    assert config.path == chosen.resolve()
    assert config.smtp.port == 2525


@pytest.mark.parametrize("missing", ["nope.toml", "site/newsletter.toml"])
def test_explicit_missing_file_is_an_error(tmp_path: Path, missing: str) -> None:
    path = tmp_path / missing

    message = config_error(path, environ={}, cwd=tmp_path)

    assert str(path) in message
    assert "no such configuration file" in message


def test_explicit_directory_is_an_error(tmp_path: Path) -> None:
    message = config_error(tmp_path, environ={}, cwd=tmp_path)

    assert str(tmp_path) in message
    assert "no such configuration file" in message


def test_newsletter_config_variable_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NEWSLETTER_CONFIG in the process environment picks the file."""
    write_config(tmp_path, '[newsletter]\ntitle_en = "In cwd"\n')
    chosen = write_config(tmp_path / "site", '[newsletter]\ntitle_en = "From variable"\n')
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(chosen))

    config = load_config(cwd=tmp_path)

    assert config.path == chosen.resolve()
    assert config.newsletter.title_en == "From variable"


def test_newsletter_config_variable_naming_missing_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path)  # a usable ./newsletter.toml must not be a silent fallback
    missing = tmp_path / "gone.toml"
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(missing))

    message = config_error(cwd=tmp_path)

    assert str(missing) in message
    assert "no such configuration file" in message


def test_explicit_path_wins_over_newsletter_config_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_variable = write_config(tmp_path / "a", '[newsletter]\ntitle_en = "Variable"\n')
    explicit = write_config(tmp_path / "b", '[newsletter]\ntitle_en = "Option"\n')
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(from_variable))

    config = load_config(explicit, cwd=tmp_path)

    assert config.path == explicit.resolve()
    assert config.newsletter.title_en == "Option"


def test_newsletter_config_in_environ_argument_names_the_file(tmp_path: Path) -> None:
    """`environ=` is the environment: its NEWSLETTER_CONFIG must pick the file too.

    Currently fails: `find_config_file` reads `os.environ`, not the `environ` passed in.
    """
    chosen = write_config(tmp_path / "site", '[newsletter]\ntitle_en = "From environ"\n')

    config = load_config(environ={"NEWSLETTER_CONFIG": str(chosen)}, cwd=tmp_path)

    assert config.path == chosen.resolve()
    assert config.newsletter.title_en == "From environ"


def test_relative_explicit_path_resolves_against_cwd_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative `--config` is relative to the working directory `load_config` is given.

    Currently fails: it is resolved against the process's working directory instead.
    """
    work = tmp_path / "work"
    chosen = write_config(work / "site", '[newsletter]\ntitle_en = "Relative"\n')
    monkeypatch.chdir(tmp_path)  # the process is elsewhere

    config = load_config("site/newsletter.toml", environ={}, cwd=work)

    assert config.path == chosen.resolve()


# --- Relative paths resolve against the config file's folder -------------------------------


def test_relative_paths_resolve_against_config_folder_not_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    elsewhere = tmp_path / "elsewhere"
    path = write_config(
        site,
        """
        [newsletter]
        database = "data/news.db"
        issues_dir = "out/issues"
        templates_dir = "tpl"
        digests = ["weekly/*.md"]
        """,
    )
    touch(site / "weekly" / "2024-01-08.md")
    touch(elsewhere / "weekly" / "decoy.md")  # same glob, wrong folder
    monkeypatch.chdir(elsewhere)

    config = load_config(path, environ={}, cwd=elsewhere)

    assert config.root == site.resolve()
    assert config.database_path == site.resolve() / "data" / "news.db"
    assert config.issues_path == site.resolve() / "out" / "issues"
    assert config.templates_path == site.resolve() / "tpl"
    assert config.digest_files() == [site.resolve() / "weekly" / "2024-01-08.md"]


def test_default_paths_resolve_against_config_folder(tmp_path: Path) -> None:
    site = tmp_path / "site"
    path = write_config(site)

    config = load_config(path, environ={}, cwd=tmp_path)

    assert config.database_path == site.resolve() / "newsletter.db"
    assert config.issues_path == site.resolve() / "issues"
    assert config.templates_path == site.resolve() / "templates"


def test_parent_relative_path_is_normalised(tmp_path: Path) -> None:
    path = write_config(tmp_path / "site", '[newsletter]\ndatabase = "../shared/news.db"\n')

    config = load_config(path, environ={}, cwd=tmp_path)

    assert config.database_path == tmp_path.resolve() / "shared" / "news.db"


def test_absolute_path_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "news.db"
    path = write_config(tmp_path / "site", f"[newsletter]\ndatabase = '{target}'\n")

    config = load_config(path, environ={}, cwd=tmp_path)

    assert config.database_path == target.resolve()


# --- The environment -------------------------------------------------------------------


def test_environment_overrides_smtp_settings_in_the_file(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """
        [smtp]
        host = "file.example.org"
        port = 25
        username = "file-user"
        security = "starttls"
        """,
    )
    environ = {
        "NEWSLETTER_SMTP_HOST": "env.example.org",
        "NEWSLETTER_SMTP_PORT": "587",
        "NEWSLETTER_SMTP_USERNAME": "env-user",
        "NEWSLETTER_SMTP_PASSWORD": SECRET,
    }

    config = load_config(path, environ=environ, cwd=tmp_path)

    assert config.smtp.host == "env.example.org"
    assert config.smtp.port == 587
    assert config.smtp.username == "env-user"
    assert config.smtp_password == SECRET
    assert config.smtp.security == "starttls"  # not overridden, kept from the file


def test_environment_overrides_apply_without_a_file(tmp_path: Path, nowhere: Path) -> None:
    environ = {"NEWSLETTER_SMTP_HOST": "mail.example.org", "NEWSLETTER_SMTP_PORT": "2525"}

    config = load_config(environ=environ, cwd=tmp_path)

    assert config.path is None
    assert (config.smtp.host, config.smtp.port) == ("mail.example.org", 2525)


def test_empty_environment_variables_do_not_override(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[smtp]\nhost = "file.example.org"\nport = 25\n')
    environ = {"NEWSLETTER_SMTP_HOST": "", "NEWSLETTER_SMTP_PORT": ""}

    config = load_config(path, environ=environ, cwd=tmp_path)

    assert (config.smtp.host, config.smtp.port) == ("file.example.org", 25)


def test_password_comes_from_the_variable_password_env_names(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[smtp]\npassword_env = "MAIL_PASSWORD"\n')

    config = load_config(path, environ={"MAIL_PASSWORD": SECRET}, cwd=tmp_path)

    assert config.smtp_password == SECRET
    assert config.describe()["settings"]["smtp"]["password"] == "(set)"
    assert SECRET not in json.dumps(config.describe())
    assert SECRET not in repr(config)


def test_default_password_variable_is_newsletter_smtp_password(tmp_path: Path) -> None:
    config = load_config(environ={"NEWSLETTER_SMTP_PASSWORD": SECRET}, cwd=tmp_path)

    assert config.smtp_password == SECRET


def test_newsletter_smtp_password_wins_over_password_env(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[smtp]\npassword_env = "MAIL_PASSWORD"\n')
    environ = {"MAIL_PASSWORD": "from-mail-password", "NEWSLETTER_SMTP_PASSWORD": SECRET}

    config = load_config(path, environ=environ, cwd=tmp_path)

    assert config.smtp_password == SECRET


def test_no_password_when_the_named_variable_is_unset(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[smtp]\npassword_env = "MAIL_PASSWORD"\n')

    config = load_config(path, environ={"OTHER": SECRET}, cwd=tmp_path)

    assert config.smtp_password == ""
    assert config.describe()["settings"]["smtp"]["password"] == "(not set)"


def test_password_key_in_the_file_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = write_config(tmp_path, f'[smtp]\npassword = "{SECRET}"\n')

    message = config_error(path, environ={}, cwd=tmp_path)

    assert "smtp.password" in message
    assert "password_env" in message  # the hint: where the secret belongs
    assert str(path.resolve()) in message
    assert SECRET not in message


def test_no_imap_inbox_by_default(tmp_path: Path) -> None:
    config = load_config(environ={"NEWSLETTER_INBOX_PASSWORD": SECRET}, cwd=tmp_path)

    assert (config.inbox.host, config.inbox.port, config.inbox.security) == ("", 993, "tls")
    assert (config.inbox.folder, config.inbox.processed_folder) == ("INBOX", "Processed")
    assert config.inbox_password == SECRET


def test_inbox_password_comes_from_the_variable_password_env_names(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """
        [inbox]
        host = "imap.example.org"
        username = "bounces@example.org"
        password_env = "BOUNCES_PASSWORD"
        """,
    )

    config = load_config(path, environ={"BOUNCES_PASSWORD": SECRET}, cwd=tmp_path)

    assert config.inbox_password == SECRET
    assert config.smtp_password == ""  # each password from its own variable
    assert config.describe()["settings"]["inbox"]["password"] == "(set)"
    assert config.describe()["settings"]["inbox"]["password_env"] == "BOUNCES_PASSWORD"
    assert SECRET not in json.dumps(config.describe())
    assert SECRET not in repr(config)
    unset = load_config(path, environ={"NEWSLETTER_INBOX_PASSWORD": SECRET}, cwd=tmp_path)
    assert unset.inbox_password == ""
    assert unset.describe()["settings"]["inbox"]["password"] == "(not set)"


def test_a_password_key_in_inbox_is_refused_with_its_own_hint(tmp_path: Path) -> None:
    path = write_config(tmp_path, f'[inbox]\npassword = "{SECRET}"\n')

    message = config_error(path, environ={}, cwd=tmp_path)

    assert "unknown key inbox.password" in message
    assert "set inbox.password_env" in message
    assert SECRET not in message


@pytest.mark.parametrize("value", ["abc", "25x", "25.0", "smtp"])
def test_non_numeric_port_variable_is_an_error_naming_it(tmp_path: Path, value: str) -> None:
    path = write_config(tmp_path, "[smtp]\nport = 25\n")

    message = config_error(path, environ={"NEWSLETTER_SMTP_PORT": value}, cwd=tmp_path)

    assert "NEWSLETTER_SMTP_PORT" in message
    assert repr(value) in message


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NEWSLETTER_SMTP_PORT", "99999999999999999999"),
        ("NEWSLETTER_SMTP_PORT", "0"),
        ("NEWSLETTER_SMTP_PORT", "１０２５"),  # full-width digits, which int() would take
        ("NEWSLETTER_SMTP_PORT", "2_5"),
        ("NEWSLETTER_SMTP_HOST", "mail.example.org\r\nX: y"),
        ("NEWSLETTER_SMTP_USERNAME", "me\n"),
    ],
)
def test_environment_overrides_go_through_the_same_checks(
    tmp_path: Path, variable: str, value: str
) -> None:
    message = config_error(environ={variable: value}, cwd=tmp_path)

    assert message.startswith(f"{variable}: ")


def test_out_of_range_port_variable_is_an_error(tmp_path: Path) -> None:
    message = config_error(environ={"NEWSLETTER_SMTP_PORT": "70000"}, cwd=tmp_path)

    assert "smtp.port" in message
    assert "70000" in message


# --- digest_files() ----------------------------------------------------------------------


def test_digest_files_are_sorted_by_file_name_across_globs(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[newsletter]\ndigests = ["weekly/*.md", "archive/*.md"]\n')
    march = touch(tmp_path / "weekly" / "2024-03-04.md")
    january = touch(tmp_path / "weekly" / "2024-01-08.md")
    december = touch(tmp_path / "archive" / "2023-12-25.md")

    files = load_config(path, environ={}, cwd=tmp_path).digest_files()

    assert files == [december.resolve(), january.resolve(), march.resolve()]


def test_file_matched_by_two_globs_is_listed_once(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """
        [newsletter]
        digests = ["digests/*.md", "digests/2024-01-*.md", "./digests/2024-01-08.md"]
        """,
    )
    first = touch(tmp_path / "digests" / "2024-01-08.md")
    second = touch(tmp_path / "digests" / "2024-02-05.md")

    files = load_config(path, environ={}, cwd=tmp_path).digest_files()

    assert files == [first.resolve(), second.resolve()]


def test_digest_files_skip_directories_and_other_files(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    digest = touch(tmp_path / "digests" / "2024-01-08.md")
    (tmp_path / "digests" / "old.md").mkdir()
    touch(tmp_path / "digests" / "notes.txt")

    files = load_config(path, environ={}, cwd=tmp_path).digest_files()

    assert files == [digest.resolve()]


def test_recursive_digest_glob(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[newsletter]\ndigests = ["digests/**/*.md"]\n')
    top = touch(tmp_path / "digests" / "b.md")
    nested = touch(tmp_path / "digests" / "2024" / "a.md")

    files = load_config(path, environ={}, cwd=tmp_path).digest_files()

    assert files == [nested.resolve(), top.resolve()]


@pytest.mark.parametrize(
    "digests",
    [
        ["digests/*.md"],  # no such folder at all
        ["found/*.md", "missing/*.md"],  # one good glob does not excuse a bad one
    ],
)
def test_digest_glob_matching_nothing_is_an_error(tmp_path: Path, digests: list[str]) -> None:
    path = write_config(tmp_path, f"[newsletter]\ndigests = {json.dumps(digests)}\n")
    touch(tmp_path / "found" / "a.md")
    config = load_config(path, environ={}, cwd=tmp_path)

    with pytest.raises(ConfigError) as caught:
        config.digest_files()

    message = str(caught.value)
    assert "newsletter.digests" in message
    assert str(path.resolve()) in message
    assert repr(digests[-1]) in message


def test_digest_glob_matching_only_a_directory_is_an_error(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    (tmp_path / "digests" / "folder.md").mkdir(parents=True)
    config = load_config(path, environ={}, cwd=tmp_path)

    with pytest.raises(ConfigError, match=r"newsletter\.digests"):
        config.digest_files()


def test_digest_glob_matching_nothing_without_a_file(tmp_path: Path) -> None:
    config = load_config(environ={}, cwd=tmp_path)

    with pytest.raises(ConfigError) as caught:
        config.digest_files()

    assert "newsletter.digests" in str(caught.value)
    assert str(tmp_path.resolve()) in str(caught.value)


def test_digest_files_in_a_workspace_whose_path_has_glob_characters(tmp_path: Path) -> None:
    """A folder named like `site [1]` is a plain folder, not a glob character class.

    Currently fails: the workspace path is pasted into the glob pattern unescaped.
    """
    site = tmp_path / "site [1]"
    path = write_config(site)
    digest = touch(site / "digests" / "2024-01-08.md")

    files = load_config(path, environ={}, cwd=tmp_path).digest_files()

    assert files == [digest.resolve()]
