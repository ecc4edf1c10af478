"""The arXiv client over real HTTP: what it asks, how often, and what it does when the
server is slow, busy, refusing or gone."""

from __future__ import annotations

import pytest

from newsletter.config import ArxivSettings
from newsletter.core.errors import ArxivError
from newsletter.enrich.atom import MAX_BYTES
from newsletter.enrich.client import ArxivClient
from tests.arxivd import ArxivServer, Reply

AGENT = "newsletter/0.1.0 (+https://digest.example.org; mailto:digest@example.org)"
IDS = ["2407.04051", "hep-th/9901001", "math.GT/0309136", "2407.99999"]


def client(api: ArxivServer, **settings: object) -> ArxivClient:
    values = {
        "api_url": api.url,
        "interval": 0.0,
        "timeout": 5.0,
        "retries": 2,
        "retry_delay": 0.01,
        **settings,
    }
    return ArxivClient(ArxivSettings(**values), AGENT)  # type: ignore[arg-type]


def test_one_request_names_every_id_with_max_results_and_a_user_agent(
    arxiv: ArxivServer,
) -> None:
    feed = client(arxiv).fetch(IDS)
    assert sorted(feed.entries) == ["2407.04051", "hep-th/9901001", "math/0309136"]
    [seen] = arxiv.seen
    assert seen.path == "/api/query"
    assert seen.ids == IDS
    assert seen.query["max_results"] == ["4"]  # the API's default would be 10
    assert seen.user_agent == AGENT


def test_requests_are_at_least_the_interval_apart(arxiv: ArxivServer) -> None:
    asking = client(arxiv, interval=0.2)
    for _ in range(3):
        asking.fetch(IDS[:1])
    assert len(arxiv.seen) == 3
    assert all(gap >= 0.2 for gap in arxiv.gaps()), arxiv.gaps()


def test_a_new_client_of_the_same_server_waits_too(arxiv: ArxivServer) -> None:
    client(arxiv, interval=0.2).fetch(IDS[:1])
    client(arxiv, interval=0.2).fetch(IDS[:1])
    assert arxiv.gaps()[0] >= 0.2


@pytest.mark.parametrize("status", [503, 500, 429])
def test_a_busy_server_is_asked_again(arxiv: ArxivServer, status: int) -> None:
    arxiv.script(Reply(status=status, file="not-atom.html"))
    assert "2407.04051" in client(arxiv).fetch(IDS).entries
    assert len(arxiv.seen) == 2


def test_the_pause_doubles_and_honours_retry_after(arxiv: ArxivServer) -> None:
    arxiv.script(
        Reply(status=503, file=None),
        Reply(status=503, file=None),
        Reply(status=429, file=None, headers={"Retry-After": "1"}),
    )
    client(arxiv, retries=3, retry_delay=0.1).fetch(IDS)
    first, second, third = arxiv.gaps()
    assert 0.1 <= first < 0.2 <= second < third
    assert third >= 1.0  # the server asked for a second


def test_a_slow_answer_times_out_and_the_retry_succeeds(arxiv: ArxivServer) -> None:
    arxiv.script(Reply(hold=True))
    assert "2407.04051" in client(arxiv, timeout=0.3).fetch(IDS).entries
    assert len(arxiv.seen) == 2
    assert arxiv.gaps()[0] >= 0.3


def test_slow_answers_every_time_give_up_after_the_retries(arxiv: ArxivServer) -> None:
    arxiv.default = Reply(hold=True)
    with pytest.raises(ArxivError) as caught:
        client(arxiv, timeout=0.2, retries=1).fetch(IDS)
    assert str(caught.value) == f"could not reach 127.0.0.1:{arxiv.port} (timed out; 2 tries)"
    assert len(arxiv.seen) == 2


def test_a_connection_closed_without_an_answer_is_tried_again(arxiv: ArxivServer) -> None:
    arxiv.script(Reply(drop=True))
    assert "2407.04051" in client(arxiv).fetch(IDS).entries
    assert len(arxiv.seen) == 2


def test_no_server_is_one_line_after_the_retries(arxiv: ArxivServer) -> None:
    arxiv.stop()
    with pytest.raises(ArxivError) as caught:
        client(arxiv).fetch(IDS)
    assert str(caught.value) == (
        f"could not reach 127.0.0.1:{arxiv.port} (connection refused; 3 tries)"
    )


def test_a_refused_query_is_not_asked_again(arxiv: ArxivServer) -> None:
    arxiv.script(Reply(status=400, file="error.xml"))
    with pytest.raises(ArxivError) as caught:
        client(arxiv).fetch(IDS)
    assert str(caught.value) == (
        f"127.0.0.1:{arxiv.port} refused the query (HTTP 400: incorrect id format for 2407.0405)"
    )
    assert len(arxiv.seen) == 1


def test_an_answer_that_is_not_a_feed_is_one_error(arxiv: ArxivServer) -> None:
    arxiv.script(Reply(file="truncated.xml"))
    with pytest.raises(ArxivError, match=r"^the answer is not XML \(unclosed token"):
        client(arxiv).fetch(IDS)
    assert len(arxiv.seen) == 1


@pytest.mark.parametrize("length", [True, False], ids=["Content-Length", "to the close"])
def test_an_answer_too_large_is_refused(arxiv: ArxivServer, length: bool) -> None:
    arxiv.script(Reply(body=b" " * (MAX_BYTES + 1), length=length))
    with pytest.raises(ArxivError, match=r"^the answer is larger than 10 MB$"):
        client(arxiv).fetch(IDS)
