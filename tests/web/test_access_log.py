"""serve's access log (web/access_log.py), read from the real server's output: what a
request puts in its path can neither forge a line nor reach the terminal."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.smtpd import wait_until
from tests.web.conftest import Web, stop_serve
from tests.web.raw import exchange, get

FORGED = 'INFO:     6.6.6.6:1 - "GET /admin HTTP/1.1" 200'
HOSTILE = [
    # CR LF and a whole forged line, then a terminal escape that clears the screen
    "/x%0d%0aINFO:%20%20%20%20%206.6.6.6:1%20-%20%22GET%20/admin%20HTTP/1.1%22%20200%1b[2J",
    "/a%0ab%0bc%0cd%00e%7ff%c2%85g%c2%9bh%e2%80%a8i%e2%80%a9j%5ck",  # C0, DEL, C1, U+2028/9, \
]


def test_control_characters_in_a_path_are_escaped_in_the_log(web: Web) -> None:
    port = urlsplit(web.base).port
    assert port is not None
    for path in HOSTILE:
        assert exchange(port, get(path)).status == 404
    log_file = web.site / "serve.log"
    wait_until(lambda: "h\\u2028i" in log_file.read_text(encoding="utf-8"), timeout=10)
    log = stop_serve(web.process, web.site)
    lines = log.splitlines()
    assert not any(line.startswith(FORGED) for line in lines)
    assert (
        '"GET /x\\x0d\\x0aINFO:     6.6.6.6:1 - \\x22GET /admin HTTP/1.1\\x22 200\\x1b[2J'
        ' HTTP/1.1" 404' in log
    )
    assert (
        '"GET /a\\x0ab\\x0bc\\x0cd\\x00e\\x7ff\\x85g\\x9bh\\u2028i\\u2029j\\x5ck HTTP/1.1" 404'
        in log
    )
    for character in ["\x1b", "\x00", "\x0b", "\x0c", "\x7f", "\x85", "\x9b", "\u2028", "\u2029"]:
        assert character not in log
    assert "\r" not in log.replace("\r\n", "")
