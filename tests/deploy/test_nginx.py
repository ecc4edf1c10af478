"""The shipped nginx site (deploy/nginx/newsletter.conf), run for real.

The test makes its config from the shipped file, replacing only the placeholders (the
host's ports, the certificate, the folders), so the file tested is the file shipped:
nginx accepts it (`nginx -t`), serves the static archive over TLS (a self-signed
certificate made here), redirects plain HTTP, and proxies a one-click unsubscribe to
a running `newsletter serve` that takes a real subscriber off the list. nginx runs as
a child of the test, with its prefix, pid and logs in tmp: no root needed.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from tests.conftest import ROOT
from tests.helpers import THREE, ledger, make_site, tokens
from tests.imapd import _self_signed
from tests.smtpd import SmtpServer, free_port, wait_until
from tests.web.conftest import start_serve, stop_serve

SITE = ROOT / "deploy" / "nginx" / "newsletter.conf"
NGINX = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx; .ci/run does)"
)
ONE_CLICK = {
    "content": b"List-Unsubscribe=One-Click",
    "headers": {"Content-Type": "application/x-www-form-urlencoded"},
}
MAIN = """
daemon off;
master_process on;
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""


def site_for_test(tmp: Path, public: Path, https: int, http: int, serve: int) -> Path:
    """The shipped site with its placeholders replaced; each must be there."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    _self_signed(cert, key)
    text = SITE.read_text(encoding="utf-8")
    for placeholder, value in {
        "listen [::]:80;\n": "",
        "listen [::]:443 ssl http2;\n": "",
        "listen 80;": f"listen 127.0.0.1:{http};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https} ssl;",
        "/etc/letsencrypt/live/digest.example.org/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/digest.example.org/privkey.pem": str(key),
        "/srv/newsletter/public": str(public),
        "/var/log/nginx/": f"{tmp}/",
        "/var/www/letsencrypt": str(tmp / "acme"),
        "server 127.0.0.1:8080;": f"server 127.0.0.1:{serve};",
    }.items():
        assert placeholder in text, f"{SITE} no longer has {placeholder!r}"
        text = text.replace(placeholder, value)
    (tmp / "site.conf").write_text(text, encoding="utf-8")
    user = "user root;" if os.geteuid() == 0 else ""  # workers read the test's tmp
    main = tmp / "nginx.conf"
    main.write_text(MAIN.format(tmp=tmp, user=user), encoding="utf-8")
    return main


def nginx_command(main: Path, *arguments: str) -> list[str]:
    assert NGINX
    tmp = main.parent
    return [NGINX, "-p", f"{tmp}/", "-c", str(main), "-e", f"{tmp}/error.log", *arguments]


def test_nginx_accepts_the_site_serves_the_archive_and_proxies_one_click(
    workspace: Path, server: SmtpServer, tmp_path: Path
) -> None:
    serve_port, https, http = free_port(), free_port(), free_port()
    site = make_site(workspace, server.port, THREE, base_url=f"https://127.0.0.1:{https}")
    sent = CliRunner().invoke(cli, ["send"])
    assert sent.exit_code == 0, sent.output
    public = site / "public"
    built = CliRunner().invoke(cli, ["archive", "build", str(public)])
    assert built.exit_code == 0, built.output
    tmp = tmp_path / "nginx"
    tmp.mkdir()
    main = site_for_test(tmp, public, https, http, serve_port)

    check = subprocess.run(nginx_command(main, "-t"), capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "syntax is ok" in check.stderr and "test is successful" in check.stderr

    serving = start_serve(site, serve_port, "--workers", "1")
    log = (tmp / "stderr.log").open("w")
    nginx = subprocess.Popen(nginx_command(main), stdout=log, stderr=subprocess.STDOUT)
    log.close()
    context = ssl.create_default_context(cafile=str(tmp / "cert.pem"))
    try:
        with httpx.Client(base_url=f"https://127.0.0.1:{https}", verify=context) as client:
            wait_until(lambda: _answers(client, nginx, tmp), timeout=30)
            _check_static(client, public)
            _check_limits(client)
            ann = tokens(site)["ann@example.org"]
            one_click = client.post(f"/unsubscribe/{ann}", **ONE_CLICK)  # type: ignore[arg-type]
            assert one_click.status_code == 200, one_click.text
            assert one_click.text == "Unsubscribed. · 已退订。\n"
            assert client.get("/healthz").text.startswith("ok newsletter ")
        plain = httpx.get(f"http://127.0.0.1:{http}/feed.xml")
        assert plain.status_code == 301
        assert plain.headers["location"] == "https://127.0.0.1/feed.xml"
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)
        stop_serve(serving, site)
    assert ledger(site, "SELECT status FROM subscribers WHERE email = ?", "ann@example.org") == [
        ("unsubscribed",)
    ]
    access = (tmp / "newsletter.access.log").read_text(encoding="utf-8")
    assert '"POST /unsubscribe/- HTTP/1.1" 200' in access
    assert ann not in access  # the token is a capability: never in a log


def _answers(client: httpx.Client, nginx: subprocess.Popen[bytes], tmp: Path) -> bool:
    if nginx.poll() is not None:
        raise AssertionError(f"nginx exited: {(tmp / 'stderr.log').read_text()}")
    try:
        return client.get("/healthz").status_code == 200
    except httpx.TransportError:
        return False


def _check_static(client: httpx.Client, public: Path) -> None:
    """The archive's pages are nginx's files, byte for byte."""
    index = client.get("/")
    assert index.status_code == 200
    assert index.content == (public / "index.html").read_bytes()
    assert "nginx/" not in index.headers.get("server", "")  # server_tokens off
    assert index.headers["strict-transport-security"] == "max-age=63072000"
    [page] = sorted(public.glob("issues/*/en.html"))
    answer = client.get("/" + page.relative_to(public).as_posix())
    assert (answer.status_code, answer.content) == (200, page.read_bytes())
    assert answer.headers["content-type"].startswith("text/html")
    feed = client.get("/feed.xml")
    assert feed.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert client.get("/issues/nothing-here.html").status_code == 404


def _check_limits(client: httpx.Client) -> None:
    """A form over 16 KB never reaches serve; neither does an oversized header."""
    big = client.post("/subscribe", content=b"email=" + b"a" * 20_000)
    assert big.status_code == 413
    huge = client.get("/", headers={"X-Padding": "x" * 9000})
    assert huge.status_code in (400, 431)
