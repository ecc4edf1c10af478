"""Where a POST comes from: the check that keeps other sites from using our forms.

A page elsewhere can make a visitor's browser POST to us (a form that submits
itself); the browser then says so. `refuse_cross_site` refuses (403, the neutral
error page, before anything is read or changed) a POST whose `Sec-Fetch-Site` is
`cross-site`, or whose `Origin` (without one, whose `Referer`) is not the origin of
`base_url`. A POST with neither header is let through: curl, scripts and old clients
send none, and the browsers in use send one or the other on every form POST.

`Origin: null` is what a browser sends for a page whose referrer policy is
`no-referrer` (ours, by default) and for sandboxed frames: it is accepted only with
`Sec-Fetch-Site: same-origin`. The pages with a form set `same-origin` as their
referrer policy, so that a browser without `Sec-Fetch-Site` sends our real origin.

RFC 8058 one-click unsubscribes do not come through here: mail providers POST them
from their own servers, without an Origin or with theirs (`web/unsubscribe.py`).
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException

from newsletter.config import Config

_DEFAULT_PORTS = {"http": 80, "https": 443}


def refuse_cross_site(config: Config, headers: Headers) -> None:
    """HTTPException(403) unless the POST with these `headers` may come from our pages."""
    if is_cross_site(site_origin(config.newsletter.base_url), headers):
        raise HTTPException(403)


def is_cross_site(ours: str, headers: Headers) -> bool:
    """Whether a browser says this request was made by a page not on `ours`."""
    fetch_site = headers.get("sec-fetch-site", "").strip().lower()
    if fetch_site == "cross-site":
        return True
    origin = headers.get("origin", "").strip()
    if origin.lower() == "null":
        return fetch_site != "same-origin"
    claimed = origin or headers.get("referer", "").strip()
    if claimed:
        return not site_origin(claimed) or site_origin(claimed) != ours
    return False


@functools.cache
def site_origin(address: str) -> str:
    """`scheme://host:port` of a URL, lower-cased, the port always written (so that
    `https://a.example` and `https://A.example:443/x` compare equal); "" if it has none."""
    try:
        parts = urlsplit(address.strip())
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        return ""
    if not parts.scheme or not host or port is None:
        return ""
    return f"{parts.scheme.lower()}://{host.lower()}:{port}"
