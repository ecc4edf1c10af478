"""Is `base_url` real yet? The guard `send` and `serve` stand behind.

Every link a message carries (one-click unsubscribe, preferences, View in browser)
is built on `newsletter.base_url`. Its default, `EXAMPLE_BASE_URL`, is a placeholder:
an issue mailed with it cannot be taken back, and its readers cannot unsubscribe. So
`send` refuses to mail through a relay that is not on this machine while base_url is
the example, and only warns for a local capture server (`newsletter smtp-sink`, a
test's); `serve` warns at start when base_url does not lead to it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from newsletter.core.hosts import is_local

EXAMPLE_BASE_URL = "https://digest.example.org"
"""The default `newsletter.base_url`: a placeholder, never a real site."""
_DEFAULT_PORTS = {"http": 80, "https": 443}


EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net")
"""Reserved for examples (RFC 2606): no site of anyone's is there."""


def is_example(base_url: str) -> bool:
    """`base_url` is on an example domain (the default's, or any of RFC 2606's),
    whatever its path or trailing slash: a placeholder, not a real site yet."""
    host = (urlsplit(base_url).hostname or "").lower().rstrip(".")
    return any(host == domain or host.endswith(f".{domain}") for domain in EXAMPLE_DOMAINS)


def send_refusal(base_url: str, smtp_host: str) -> str | None:
    """Why `send` must not mail through `smtp_host` with this `base_url`, or None."""
    if not is_example(base_url) or is_local(smtp_host):
        return None
    return (
        f"newsletter.base_url is still the example {base_url}: every link in the issue "
        f"(unsubscribe included) would lead there; set base_url in newsletter.toml to "
        f"where `newsletter serve` answers (behind nginx: https://your-host) before "
        f"sending through {smtp_host}"
    )


def send_warning(base_url: str, smtp_host: str) -> str | None:
    """The warning for a send to a local capture server with the example base_url."""
    if not is_example(base_url) or not is_local(smtp_host):
        return None
    return (
        f"newsletter.base_url is the example {base_url}: the links in these "
        f"messages lead nowhere (fine for a local capture server at {smtp_host}; set "
        "base_url before sending for real)"
    )


def serve_warning(base_url: str, host: str, port: int) -> str | None:
    """Why `base_url` may not lead to `serve` listening on `host`:`port`, or None.

    A base_url on a local host must name serve's port; one on another host is taken
    to be a proxy in front (nginx), unless it is the example."""
    if is_example(base_url):
        return (
            f"warning: newsletter.base_url is the example {base_url}: the links in mail "
            f"and on these pages lead nowhere; set it to where this server is reached"
        )
    parts = urlsplit(base_url)
    try:
        wanted = parts.port or _DEFAULT_PORTS.get(parts.scheme, 80)
    except ValueError:
        return None  # the configuration check refuses such a URL before this
    if is_local(parts.hostname or "") and wanted != port:
        return (
            f"warning: newsletter.base_url {base_url} does not lead to this server "
            f"(listening on {host}:{port}): set base_url, or --port {wanted}"
        )
    return None
