"""The app as a whole, over real HTTP: health, security headers, limits, errors."""

from __future__ import annotations

from tests.web.conftest import Web

HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def test_healthz_answers_with_the_security_headers(web: Web) -> None:
    with web.client() as client:
        response = client.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok\n")
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
