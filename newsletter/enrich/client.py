"""Asking the arXiv API for papers by id, as its terms of use ask.

One request names up to `BATCH` ids (`id_list`, with `max_results` to match: the
API's default is 10). Requests to a host go one at a time, at least `interval`
seconds apart, measured on the monotonic clock from the end of the previous one
(its answer read, or its failure), so the API sees them that far apart too. Each
carries a User-Agent naming the tool, its site and a contact address. A timeout, a
dropped connection, a 5xx or a 429 is tried again after a pause that doubles (or the
server's `Retry-After`, up to `MAX_RETRY_AFTER`), `retries` times at most; anything
else is an answer we cannot use. Either way the failure is one `ArxivError`.

The standard library's `urllib` is enough for one GET at a time; no new dependency.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import ClassVar
from urllib.parse import urlencode, urlsplit

from newsletter.config import ArxivSettings
from newsletter.core import backoff, clock
from newsletter.core.errors import ArxivError
from newsletter.enrich.atom import MAX_BYTES, Feed, parse_feed

BATCH = 100
"""Ids per request: the API answers 100 in one go without trouble."""

MAX_RETRY_AFTER = 30.0
"""The longest pause a server's `Retry-After` may ask for; compose must go on."""


class Throttle:
    """One request at a time to a host from this process, `interval` seconds apart.

    Shared by every client of the same host in the process (a long-running
    `schedule` composes many times), so a new client cannot ask sooner.
    """

    _last: ClassVar[dict[str, float]] = {}
    _locks: ClassVar[dict[str, threading.Lock]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, host: str, interval: float) -> None:
        self.host = host
        self.interval = interval
        with self._guard:
            self.lock = self._locks.setdefault(host, threading.Lock())

    def __enter__(self) -> None:
        self.lock.acquire()
        last = self._last.get(self.host)
        if last is not None:
            time.sleep(max(0.0, last + self.interval - time.monotonic()))

    def __exit__(self, *exc_info: object) -> None:
        self._last[self.host] = time.monotonic()
        self.lock.release()


class _Retry(Exception):
    """A failure worth another try: `reason` for the message, the server's wish."""

    def __init__(self, reason: str, after: float = 0.0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


class ArxivClient:
    """The API at `settings.api_url`, asked with the given User-Agent."""

    def __init__(self, settings: ArxivSettings, user_agent: str) -> None:
        self.settings = settings
        self.user_agent = user_agent
        self.host = urlsplit(settings.api_url).netloc
        self.throttle = Throttle(self.host, settings.interval)

    def fetch(self, arxiv_ids: Sequence[str]) -> Feed:
        """One request for up to BATCH ids, tried again as the module says."""
        assert 0 < len(arxiv_ids) <= BATCH
        query = urlencode({"id_list": ",".join(arxiv_ids), "max_results": len(arxiv_ids)})
        url = f"{self.settings.api_url}?{query}"
        tries = self.settings.retries + 1
        for attempt in range(1, tries + 1):
            try:
                with self.throttle:
                    body = self._get(url)
            except _Retry as failure:
                if attempt == tries:
                    times = f"{tries} {'try' if tries == 1 else 'tries'}"
                    raise ArxivError(
                        f"could not reach {self.host} ({failure.reason}; {times})"
                    ) from None
                time.sleep(self._pause(attempt, failure.after))
            else:
                return parse_feed(body, clock.now().replace(microsecond=0))
        raise AssertionError("the loop returns or raises")

    def _pause(self, attempt: int, server_asks: float) -> float:
        """Seconds after try `attempt`: the delay, doubling, or what the server asks."""
        delay = backoff.delay(attempt, self.settings.retry_delay)
        return max(delay, min(server_asks, MAX_RETRY_AFTER))

    def _get(self, url: str) -> bytes:
        request = urllib.request.Request(
            url, headers={"User-Agent": self.user_agent, "Accept": "application/atom+xml"}
        )
        deadline = time.monotonic() + self.settings.timeout
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout) as response:
                return _read(response, deadline)
        except urllib.error.HTTPError as error:
            with error:
                raise _refusal(error, self.host) from None
        except ssl.SSLCertVerificationError as error:
            raise ArxivError(
                f"{self.host}: its certificate is not valid ({error.verify_message})"
            ) from None
        except (OSError, http.client.HTTPException) as error:  # URLError is an OSError
            raise _Retry(_reason(error)) from None


def _read(response: http.client.HTTPResponse, deadline: float) -> bytes:
    """The body, refused past MAX_BYTES; a server that trickles it past the timeout
    counts as timed out (each read waits at most the timeout)."""
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_BYTES:
        raise ArxivError(f"the answer is larger than {MAX_BYTES // (1024 * 1024)} MB")
    chunks, size = [], 0
    while chunk := response.read1(64 * 1024):
        size += len(chunk)
        if size > MAX_BYTES:
            raise ArxivError(f"the answer is larger than {MAX_BYTES // (1024 * 1024)} MB")
        if time.monotonic() > deadline:
            raise _Retry("timed out")
        chunks.append(chunk)
    return b"".join(chunks)


def _refusal(error: urllib.error.HTTPError, host: str) -> Exception:
    """A 5xx or 429 is tried again; any other status is the API refusing the query,
    in words its error entry gives when it has one."""
    if error.code == 429 or error.code >= 500:
        return _Retry(f"HTTP {error.code}", _retry_after(error.headers.get("Retry-After")))
    try:
        reasons = parse_feed(error.read(MAX_BYTES + 1), clock.now()).errors
    except (ArxivError, OSError, http.client.HTTPException):
        reasons = []
    said = f": {reasons[0]}" if reasons else ""
    return ArxivError(f"{host} refused the query (HTTP {error.code}{said})")


def _retry_after(value: str | None) -> float:
    """`Retry-After: 5` as seconds; a date or nonsense counts as nothing."""
    text = (value or "").strip()
    return float(text) if text.isdigit() else 0.0


def _reason(error: BaseException) -> str:
    """A network failure in a few words: `timed out`, `connection refused`…"""
    reason = getattr(error, "reason", error)
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, ConnectionResetError | http.client.RemoteDisconnected):
        return "connection closed without an answer"
    if isinstance(reason, socket.gaierror):
        return "its name does not resolve"  # no network, or a wrong api_url
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__
