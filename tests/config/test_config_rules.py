"""`newsletter/config/rules.py` and `checks.py`: what each setting may be, and the one-line error
that names the key and the file when it is not."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest

from newsletter.config import (
    CONFIG_NAME,
    ArxivSettings,
    BounceSettings,
    InboxSettings,
    NewsletterSettings,
    ScheduleSettings,
    SmtpSettings,
    WebSettings,
    load_config,
)
from newsletter.config.rules import BOUNDS
from tests.helpers import config_error, write_config

# --- Keys and values ---------------------------------------------------------------------


def test_from_key_sets_the_sender(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[newsletter]\nfrom = "Weekly <weekly@example.com>"\n')

    config = load_config(path, environ={}, cwd=tmp_path)

    assert config.newsletter.from_ == "Weekly <weekly@example.com>"
    assert config.describe()["settings"]["newsletter"]["from"] == "Weekly <weekly@example.com>"


def test_full_readme_example_is_accepted(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """
        [newsletter]
        title_en = "AI Paper Digest"
        title_zh = "AI 论文周报"
        from = "AI Paper Digest <digest@example.org>"
        base_url = "https://digest.example.org"
        unsubscribe_mailto = ""
        digests = ["digests/*.md"]
        issues_dir = "issues"
        templates_dir = "templates"
        database = "newsletter.db"
        max_papers = 20

        [smtp]
        host = "localhost"
        port = 1025
        security = "none"
        username = ""
        password_env = "NEWSLETTER_SMTP_PASSWORD"
        timeout = 30
        connections = 4
        rate_per_second = 0

        [schedule]
        cron = "0 8 * * mon"
        timezone = "Asia/Shanghai"

        [inbox]
        host = ""
        port = 993
        security = "tls"
        username = ""
        password_env = "NEWSLETTER_INBOX_PASSWORD"
        folder = "INBOX"
        """,
    )

    config = load_config(path, environ={}, cwd=tmp_path)

    assert config.newsletter == NewsletterSettings()
    assert config.smtp == SmtpSettings()
    assert config.schedule == ScheduleSettings()
    assert config.inbox == InboxSettings()


@pytest.mark.parametrize(
    ("text", "section", "attribute", "expected"),
    [
        ('[smtp]\nsecurity = "tls"\n', "smtp", "security", "tls"),
        ('[smtp]\nsecurity = "starttls"\n', "smtp", "security", "starttls"),
        ("[smtp]\nport = 65535\n", "smtp", "port", 65535),
        ("[smtp]\nport = 1\n", "smtp", "port", 1),
        ("[smtp]\ntimeout = 10\n", "smtp", "timeout", 10.0),
        ("[smtp]\ntimeout = 2.5\n", "smtp", "timeout", 2.5),
        ("[smtp]\nrate_per_second = 0.5\n", "smtp", "rate_per_second", 0.5),
        ("[newsletter]\nmax_papers = 1\n", "newsletter", "max_papers", 1),
        ('[newsletter]\ndigests = "one/*.md"\n', "newsletter", "digests", ("one/*.md",)),
        ('[newsletter]\ndigests = ["a/*.md", "b"]\n', "newsletter", "digests", ("a/*.md", "b")),
        ('[schedule]\ntimezone = "UTC"\n', "schedule", "timezone", "UTC"),
        ('[schedule]\ntimezone = "Europe/Berlin"\n', "schedule", "timezone", "Europe/Berlin"),
        (
            '[newsletter]\nfrom = "digest@example.org"\n',
            "newsletter",
            "from_",
            "digest@example.org",
        ),
        (
            '[newsletter]\nfrom = "AI 论文周报 <digest@example.org>"\n',
            "newsletter",
            "from_",
            "AI 论文周报 <digest@example.org>",
        ),
        (
            '[newsletter]\nunsubscribe_mailto = "leave@example.org"\n',
            "newsletter",
            "unsubscribe_mailto",
            "leave@example.org",
        ),
        (
            '[newsletter]\nbase_url = "http://localhost:8080/digest/"\n',
            "newsletter",
            "base_url",
            "http://localhost:8080/digest/",
        ),
        (
            '[newsletter]\nsubject_en = "{title_en:.20} #{number:03d} {{weekly}}"\n',
            "newsletter",
            "subject_en",
            "{title_en:.20} #{number:03d} {{weekly}}",
        ),
        ("[smtp]\nconnections = 100\n", "smtp", "connections", 100),
        ("[smtp]\ntimeout = 600\n", "smtp", "timeout", 600.0),
        ("[smtp]\nretries = 0\n", "smtp", "retries", 0),
        ("[schedule]\ngrace_hours = 0\n", "schedule", "grace_hours", 0.0),
        (
            '[inbox]\nhost = "imap.example.org"\nusername = "bounces"\n',
            "inbox",
            "host",
            "imap.example.org",
        ),
        (
            '[inbox]\nhost = "127.0.0.1"\nusername = "b"\nsecurity = "none"\nport = 143\n',
            "inbox",
            "port",
            143,
        ),
        (
            '[inbox]\nhost = "::1"\nusername = "b"\nsecurity = "starttls"\n',
            "inbox",
            "security",
            "starttls",
        ),
        (
            '[inbox]\nhost = "localhost"\nusername = "b"\nfolder = "Bounces"\nprocessed_folder = '
            '"INBOX"\n',
            "inbox",
            "processed_folder",
            "INBOX",
        ),
        (
            '[inbox]\nhost = "mx.example.org"\nusername = "b"\nprocessed_folder = "已处理"\n',
            "inbox",
            "processed_folder",
            "已处理",
        ),
        ("[inbox]\ntimeout = 5\n", "inbox", "timeout", 5.0),
        ("[inbox]\nmax_size = 100_000\n", "inbox", "max_size", 100_000),
        ("[inbox]\nmax_size = 1_000_000_000\n", "inbox", "max_size", 1_000_000_000),
        (
            '[inbox]\nhost = "localhost"\nusername = "b"\nfailed_folder = "Bounces/Failed"\n',
            "inbox",
            "failed_folder",
            "Bounces/Failed",
        ),
    ],
)
def test_good_values_are_accepted(
    tmp_path: Path, text: str, section: str, attribute: str, expected: object
) -> None:
    path = write_config(tmp_path, text)

    config = load_config(path, environ={}, cwd=tmp_path)

    value = getattr(getattr(config, section), attribute)
    assert value == expected
    assert type(value) is type(expected)


# Each row: the file's text, and the key (or section) the error must name.
BAD_VALUES = [
    pytest.param('[newsletter]\ntitle = "x"\n', "newsletter.title", id="unknown-key"),
    pytest.param('[smtp]\nhostname = "x"\n', "smtp.hostname", id="unknown-smtp-key"),
    pytest.param('[newsletter]\nfrom_ = "a@b.c"\n', "newsletter.from_", id="python-name-from_"),
    pytest.param('[mail]\nhost = "x"\n', "[mail]", id="unknown-section"),
    pytest.param('title_en = "x"\n', "title_en", id="top-level-key"),
    pytest.param('smtp = "localhost"\n', "smtp", id="section-not-a-table"),
    pytest.param('[smtp]\nport = "abc"\n', "smtp.port", id="port-string"),
    pytest.param('[smtp]\nport = "25"\n', "smtp.port", id="port-numeric-string"),
    pytest.param("[smtp]\nport = 70000\n", "smtp.port", id="port-too-big"),
    pytest.param("[smtp]\nport = 0\n", "smtp.port", id="port-zero"),
    pytest.param("[smtp]\nport = 25.0\n", "smtp.port", id="port-float"),
    pytest.param("[smtp]\nport = true\n", "smtp.port", id="port-bool"),
    pytest.param('[smtp]\nsecurity = "ssl"\n', "smtp.security", id="security-ssl"),
    pytest.param('[smtp]\nsecurity = "TLS"\n', "smtp.security", id="security-uppercase"),
    pytest.param("[smtp]\ntimeout = 0\n", "smtp.timeout", id="timeout-zero"),
    pytest.param("[smtp]\ntimeout = -1\n", "smtp.timeout", id="timeout-negative"),
    pytest.param("[smtp]\ntimeout = true\n", "smtp.timeout", id="timeout-bool"),
    pytest.param("[smtp]\ntimeout = nan\n", "smtp.timeout", id="timeout-nan"),
    pytest.param("[smtp]\nconnections = 0\n", "smtp.connections", id="connections-zero"),
    pytest.param("[smtp]\nconnections = false\n", "smtp.connections", id="connections-bool"),
    pytest.param("[smtp]\nrate_per_second = -1\n", "smtp.rate_per_second", id="rate-negative"),
    pytest.param("[smtp]\nusername = 42\n", "smtp.username", id="username-int"),
    pytest.param("[newsletter]\nmax_papers = 0\n", "newsletter.max_papers", id="max-papers-0"),
    pytest.param("[newsletter]\nmax_papers = true\n", "newsletter.max_papers", id="int-is-bool"),
    pytest.param("[newsletter]\nmax_papers = 2.5\n", "newsletter.max_papers", id="int-is-float"),
    pytest.param("[newsletter]\ntitle_en = 5\n", "newsletter.title_en", id="str-is-int"),
    pytest.param("[newsletter]\ndigests = [1, 2]\n", "newsletter.digests", id="digests-ints"),
    pytest.param('[newsletter]\ndigests = ["a.md", 3]\n', "newsletter.digests", id="digests-mixed"),
    pytest.param("[newsletter]\ndigests = 5\n", "newsletter.digests", id="digests-int"),
    pytest.param('[newsletter]\ndigests = [["a.md"]]\n', "newsletter.digests", id="digests-nest"),
    pytest.param("[newsletter]\ndigests = []\n", "newsletter.digests", id="digests-empty"),
    pytest.param(
        '[schedule]\ntimezone = "Mars/Olympus"\n', "schedule.timezone", id="timezone-unknown"
    ),
    pytest.param('[schedule]\ntimezone = ""\n', "schedule.timezone", id="timezone-empty"),
    pytest.param(
        '[schedule]\ntimezone = "../etc/passwd"\n', "schedule.timezone", id="timezone-path"
    ),
    pytest.param("[schedule]\ncron = 5\n", "schedule.cron", id="cron-int"),
    # Addresses and links that would go out broken to every subscriber.
    pytest.param('[newsletter]\nfrom = "not an address"\n', "newsletter.from", id="from-words"),
    pytest.param(
        '[newsletter]\nfrom = "a@b.example, c@d.example"\n', "newsletter.from", id="from-two"
    ),
    pytest.param('[newsletter]\nfrom = "Digest <digest@>"\n', "newsletter.from", id="from-no-host"),
    pytest.param(
        '[newsletter]\nunsubscribe_mailto = "nobody"\n',
        "newsletter.unsubscribe_mailto",
        id="mailto-words",
    ),
    pytest.param(
        '[newsletter]\nunsubscribe_mailto = "U <u@example.org>"\n',
        "newsletter.unsubscribe_mailto",
        id="mailto-with-a-name",
    ),
    pytest.param(
        '[newsletter]\nbase_url = "digest.example.org"\n',
        "newsletter.base_url",
        id="base-url-no-scheme",
    ),
    pytest.param('[newsletter]\nbase_url = "/digest"\n', "newsletter.base_url", id="base-url-path"),
    pytest.param(
        '[newsletter]\nbase_url = "ftp://digest.example.org"\n',
        "newsletter.base_url",
        id="base-url-ftp",
    ),
    pytest.param(
        '[newsletter]\nbase_url = "https://"\n', "newsletter.base_url", id="base-url-no-host"
    ),
    pytest.param(
        '[newsletter]\nbase_url = "https://d.example.org/?p=1"\n',
        "newsletter.base_url",
        id="base-url-query",
    ),
    pytest.param(
        '[newsletter]\nbase_url = "https://d.example.org:99999"\n',
        "newsletter.base_url",
        id="base-url-bad-port",
    ),
    pytest.param(
        '[newsletter]\nbase_url = "https://user:pw@d.example.org"\n',
        "newsletter.base_url",
        id="base-url-credentials",
    ),
    # Numbers out of their bounds: no OverflowError, no hang later.
    pytest.param("[smtp]\ntimeout = inf\n", "smtp.timeout", id="timeout-inf"),
    pytest.param("[smtp]\ntimeout = 1e400\n", "smtp.timeout", id="timeout-overflows-to-inf"),
    pytest.param(
        "[smtp]\ntimeout = 100000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000\n",
        "smtp.timeout",
        id="timeout-huge-int",
    ),
    pytest.param("[smtp]\nconnections = 100000000\n", "smtp.connections", id="connections-1e8"),
    pytest.param("[smtp]\nconnections = 1e8\n", "smtp.connections", id="connections-float"),
    pytest.param("[smtp]\nrate_per_second = inf\n", "smtp.rate_per_second", id="rate-inf"),
    pytest.param("[smtp]\nrate_per_second = nan\n", "smtp.rate_per_second", id="rate-nan"),
    pytest.param("[smtp]\nretries = 100000\n", "smtp.retries", id="retries-huge"),
    pytest.param("[smtp]\nretry_delay = inf\n", "smtp.retry_delay", id="retry-delay-inf"),
    pytest.param("[smtp]\nport = 99999999999999999999\n", "smtp.port", id="port-huge"),
    pytest.param(
        "[newsletter]\nmax_papers = 99999999999999999999\n",
        "newsletter.max_papers",
        id="max-papers-huge",
    ),
    pytest.param("[schedule]\ngrace_hours = inf\n", "schedule.grace_hours", id="grace-inf"),
    pytest.param("[schedule]\ngrace_hours = 1e300\n", "schedule.grace_hours", id="grace-huge"),
    # Control characters would split a header (or a path).
    pytest.param(
        '[newsletter]\ntitle_en = "Digest\\r\\nBcc: all@example.org"\n',
        "newsletter.title_en",
        id="title-crlf",
    ),
    pytest.param('[newsletter]\ntitle_zh = "周报\\n"\n', "newsletter.title_zh", id="title-lf"),
    pytest.param(
        '[newsletter]\nbase_url = "https://d.example.org\\r\\nX: y"\n',
        "newsletter.base_url",
        id="base-url-crlf",
    ),
    pytest.param(
        '[newsletter]\nfrom = "D <d@example.org>\\r\\nBcc: x@example.org"\n',
        "newsletter.from",
        id="from-crlf",
    ),
    pytest.param(
        '[newsletter]\nsubject_en = "#{number}\\r\\nBcc: x@example.org"\n',
        "newsletter.subject_en",
        id="subject-crlf",
    ),
    pytest.param(
        '[newsletter]\ndatabase = "news\\u0000.db"\n', "newsletter.database", id="path-nul"
    ),
    pytest.param(
        '[newsletter]\ndigests = ["a.md", "b\\u0085.md"]\n', "newsletter.digests", id="glob-c1"
    ),
    pytest.param('[smtp]\nhost = "mail\\u2028.example.org"\n', "smtp.host", id="host-line-sep"),
    # Subject patterns name plain fields only.
    pytest.param(
        '[newsletter]\nsubject_en = "{title_en.__doc__}"\n',
        "newsletter.subject_en",
        id="subject-attribute",
    ),
    pytest.param(
        '[newsletter]\nsubject_en = "{title_en[0]}"\n', "newsletter.subject_en", id="subject-index"
    ),
    pytest.param('[newsletter]\nsubject_en = "{0}"\n', "newsletter.subject_en", id="subject-0"),
    pytest.param('[newsletter]\nsubject_en = "{}"\n', "newsletter.subject_en", id="subject-empty"),
    pytest.param(
        '[newsletter]\nsubject_en = "{issue}"\n', "newsletter.subject_en", id="subject-unknown"
    ),
    pytest.param(
        '[newsletter]\nsubject_en = "{number!r}"\n',
        "newsletter.subject_en",
        id="subject-conversion",
    ),
    pytest.param(
        '[newsletter]\nsubject_en = "{title_en:>1000000000}"\n',
        "newsletter.subject_en",
        id="subject-huge-width",
    ),
    pytest.param(
        '[newsletter]\nsubject_en = "{number:{papers}}"\n',
        "newsletter.subject_en",
        id="subject-nested",
    ),
    pytest.param(
        '[newsletter]\nsubject_en = "{date:d}"\n',
        "newsletter.subject_en",
        id="subject-spec-misfits",
    ),
    pytest.param(
        '[newsletter]\nsubject_en = "#{number"\n', "newsletter.subject_en", id="subject-unclosed"
    ),
    # The IMAP inbox: checked when it is read from, not first at the weekly run.
    pytest.param('[inbox]\nsecurity = "ssl"\n', "inbox.security", id="inbox-security-ssl"),
    pytest.param("[inbox]\nport = 0\n", "inbox.port", id="inbox-port-zero"),
    pytest.param("[inbox]\nport = 70000\n", "inbox.port", id="inbox-port-too-big"),
    pytest.param('[inbox]\nport = "993"\n', "inbox.port", id="inbox-port-string"),
    pytest.param("[inbox]\ntimeout = 0\n", "inbox.timeout", id="inbox-timeout-zero"),
    pytest.param("[inbox]\ntimeout = inf\n", "inbox.timeout", id="inbox-timeout-inf"),
    pytest.param(
        '[inbox]\nhost = "imap://mail.example.org"\nusername = "b"\n',
        "inbox.host",
        id="inbox-host-url",
    ),
    pytest.param(
        '[inbox]\nhost = "mail example.org"\nusername = "b"\n', "inbox.host", id="inbox-host-space"
    ),
    pytest.param('[inbox]\nhost = "mail.example.org\\r\\nX"\n', "inbox.host", id="inbox-host-crlf"),
    pytest.param('[inbox]\nhost = "imap.example.org"\n', "inbox.username", id="inbox-no-username"),
    pytest.param(
        '[inbox]\nhost = "imap.example.org"\nusername = "b"\nfolder = ""\n',
        "inbox.folder",
        id="inbox-folder-empty",
    ),
    pytest.param(
        '[inbox]\nhost = "imap.example.org"\nusername = "b"\nprocessed_folder = ""\n',
        "inbox.processed_folder",
        id="inbox-processed-empty",
    ),
    pytest.param(
        '[inbox]\nhost = "imap.example.org"\nusername = "b"\nprocessed_folder = "inbox"\n',
        "inbox.processed_folder",
        id="inbox-processed-is-the-inbox",
    ),
    pytest.param('[inbox]\nfolder = "Bounces\\n"\n', "inbox.folder", id="inbox-folder-lf"),
    pytest.param("[inbox]\nmax_size = 99_999\n", "inbox.max_size", id="inbox-max-size-small"),
    pytest.param("[inbox]\nmax_size = 1_000_000_001\n", "inbox.max_size", id="inbox-max-size-huge"),
    pytest.param('[inbox]\nmax_size = "10MB"\n', "inbox.max_size", id="inbox-max-size-string"),
    pytest.param(
        '[inbox]\nhost = "imap.example.org"\nusername = "b"\nfailed_folder = ""\n',
        "inbox.failed_folder",
        id="inbox-failed-empty",
    ),
    pytest.param(
        '[inbox]\nhost = "imap.example.org"\nusername = "b"\nfailed_folder = "Processed"\n',
        "inbox.failed_folder",
        id="inbox-failed-is-processed",
    ),
    pytest.param(
        '[inbox]\nhost = "imap.example.org"\nusername = "b"\nfailed_folder = "INBOX"\n',
        "inbox.failed_folder",
        id="inbox-failed-is-the-inbox",
    ),
    pytest.param('[inbox]\nusername = "b\\u0000"\n', "inbox.username", id="inbox-user-nul"),
    pytest.param('[inbox]\nhostname = "x"\n', "inbox.hostname", id="inbox-unknown-key"),
]


@pytest.mark.parametrize(("text", "key"), BAD_VALUES)
def test_bad_value_names_the_key_and_the_file(tmp_path: Path, text: str, key: str) -> None:
    path = write_config(tmp_path, text)

    message = config_error(path, environ={}, cwd=tmp_path)

    assert key in message
    assert str(path.resolve()) in message


def test_bad_value_in_working_directory_file_names_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[smtp]\nsecurity = "ssl"\n')

    message = config_error(environ={}, cwd=tmp_path)

    assert "smtp.security" in message
    assert "'ssl'" in message
    assert str(path.resolve()) in message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[smtp\nport = = 25\n")

    message = config_error(path, environ={}, cwd=tmp_path)

    assert str(path.resolve()) in message
    assert "not valid TOML" in message


def test_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / CONFIG_NAME
    path.write_bytes(b'[newsletter]\ntitle_en = "\xff\xfe"\n')

    message = config_error(path, environ={}, cwd=tmp_path)

    assert str(path.resolve()) in message


def test_every_number_setting_has_bounds() -> None:
    numbers = {
        f"{section}.{f.name}"
        for section, cls in [
            ("newsletter", NewsletterSettings),
            ("smtp", SmtpSettings),
            ("schedule", ScheduleSettings),
            ("web", WebSettings),
            ("bounces", BounceSettings),
            ("inbox", InboxSettings),
            ("arxiv", ArxivSettings),
        ]
        for f in fields(cls)
        if isinstance(f.default, int | float) and not isinstance(f.default, bool)
    }
    assert numbers == set(BOUNDS)
    assert str(BOUNDS["smtp.timeout"]) == "more than 0 and at most 600 seconds"


def test_a_bound_is_named_in_the_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[smtp]\nconnections = 100000000\n")

    message = config_error(path, environ={}, cwd=tmp_path)

    assert message == (
        f"{path.resolve()}: smtp.connections: 100000000 is out of range: "
        "it must be at least 1 and at most 100"
    )


def test_a_subject_field_error_names_what_may_be_used(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[newsletter]\nsubject_en = "{title_en.__doc__}"\n')

    message = config_error(path, environ={}, cwd=tmp_path)

    assert message == (
        f"{path.resolve()}: newsletter.subject_en: '{{title_en.__doc__}}' is not a subject "
        "pattern ({title_en.__doc__} is not a field); it may name {number}, {date}, {papers}, "
        "{title_en}, {title_zh}"
    )


# --- The postal address --------------------------------------------------------------------


def test_postal_address_may_span_lines(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, '[newsletter]\npostal_address = """AI Paper Digest\n1 Main St\nBeijing"""\n'
    )

    config = load_config(path, environ={}, cwd=tmp_path)

    assert config.newsletter.postal_address == "AI Paper Digest\n1 Main St\nBeijing"
    assert NewsletterSettings().postal_address == ""


@pytest.mark.parametrize(
    "bad", ["1 Main St\r\nBeijing", "1 Main St\tBeijing", "a\x00b", "a\u2028b", "a\x85b"]
)
def test_postal_address_refuses_other_control_characters(tmp_path: Path, bad: str) -> None:
    # A JSON string is a TOML basic string: \u0000, \r, \t… escaped as TOML reads them.
    path = write_config(tmp_path, f"[newsletter]\npostal_address = {json.dumps(bad)}\n")

    message = config_error(path, environ={}, cwd=tmp_path)

    assert "newsletter.postal_address" in message
    assert "control character" in message
    assert str(path) in message or path.name in message


def test_postal_address_is_at_most_300_characters(tmp_path: Path) -> None:
    ok = write_config(tmp_path, f'[newsletter]\npostal_address = "{"x" * 300}"\n')
    assert len(load_config(ok, environ={}, cwd=tmp_path).newsletter.postal_address) == 300
    long = write_config(tmp_path, f'[newsletter]\npostal_address = "{"x" * 301}"\n')

    message = config_error(long, environ={}, cwd=tmp_path)

    assert "newsletter.postal_address" in message
    assert "at most 300 characters" in message


def test_only_the_postal_address_may_span_lines(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[newsletter]\ntitle_en = """Two\nlines"""\n')

    assert "newsletter.title_en" in config_error(path, environ={}, cwd=tmp_path)
