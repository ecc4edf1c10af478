"""The app as a whole, over real HTTP: health, security headers, limits, errors."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from newsletter.core.version import version
from tests.conftest import newsletter_process
from tests.helpers import THREE, make_site
from tests.smtpd import SmtpServer, free_port, wait_until
from tests.web.conftest import Web, stop_serve
from tests.web.raw import exchange, get

HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def test_healthz_answers_with_the_security_headers(web: Web) -> None:
    with web.client() as client:
        response = client.get("/healthz")
    assert (response.status_code, response.text) == (200, f"ok newsletter {version()}\n")
    for name, value in HEADERS.items():
        assert response.headers[name] == value
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "frame-ancestors 'none'" in policy


def test_an_unknown_path_is_the_neutral_404_page(web: Web) -> None:
    with web.client() as client:
        response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "This link is not valid" in response.text and "此链接无效" in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_wrong_method_is_405_and_head_works(web: Web) -> None:
    with web.client() as client:
        assert client.post("/healthz").status_code == 405
        head = client.head("/healthz")
    assert (head.status_code, head.content) == (200, b"")


def test_an_oversized_body_is_413(web: Web) -> None:
    with web.client() as client:
        response = client.post("/subscribe", content=b"x" * 100_000)
    assert response.status_code == 413


def from_evil(path: str) -> bytes:
    request = get(path, "X-Forwarded-Host: evil.example")
    return request.replace(b"Host: 127.0.0.1", b"Host: evil.example")


def test_a_trailing_slash_redirects_under_base_url_never_to_the_host(web: Web) -> None:
    port = urlsplit(web.base).port
    assert port is not None
    for path, location in [
        ("/subscribe/", "/subscribe"),
        ("/subscribe/?lang=en", "/subscribe?lang=en"),
        ("/unsubscribe/%0d%0aSet-Cookie:%20a=b/", "/unsubscribe/%0d%0aSet-Cookie:%20a=b"),
        ("/issues/2024", "/issues/2024/"),
    ]:
        answer = exchange(port, from_evil(path))
        assert answer.status == 307, (path, answer)
        assert answer.headers["location"] == web.base + location
        assert answer.headers["x-content-type-options"] == "nosniff"
    for path in ("/no/such/", "//evil.example/", "/healthz/x/"):
        answer = exchange(port, from_evil(path))
        assert answer.status == 404, path


def test_a_server_error_carries_the_security_headers(workspace: Path, server: SmtpServer) -> None:
    """A database that cannot be opened (a folder in its place): /healthz is a 500
    from Starlette, made outside every middleware of the app."""
    port = free_port()
    site = make_site(workspace, server.port, THREE, base_url=f"http://127.0.0.1:{port}")
    (site / "broken.db").mkdir()
    config = (site / "newsletter.toml").read_text()
    (site / "newsletter.toml").write_text(
        config.replace("[newsletter]\n", '[newsletter]\ndatabase = "broken.db"\n')
    )
    log = (site / "serve.log").open("w", encoding="utf-8")
    process = newsletter_process(
        site, "serve", "--port", str(port), "--workers", "1", stdout=log, stderr=subprocess.STDOUT
    )
    log.close()
    try:
        answers: list[httpx.Response] = []

        def answered() -> bool:
            assert process.poll() is None, (site / "serve.log").read_text()
            try:
                answers.append(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1))
            except httpx.TransportError:
                return False
            return True

        wait_until(answered, timeout=30)
        response = answers[-1]
        assert (response.status_code, response.text) == (500, "Internal Server Error")
        for name, value in HEADERS.items():
            assert response.headers[name] == value
        assert "default-src 'none'" in response.headers["content-security-policy"]
    finally:
        stop_serve(process, site)
