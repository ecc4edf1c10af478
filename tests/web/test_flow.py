"""The whole life of a subscriber on the web, against `newsletter serve` and a real
SMTP server: subscribe, confirm by mail, receive an issue in their language,
unsubscribe in one click from the message's header, receive nothing more."""

from __future__ import annotations

import re

from newsletter.compose import compose
from newsletter.config import load_config
from newsletter.send import send
from tests.helpers import add_digest
from tests.web.conftest import Web
from tests.web.helpers import confirmation_to, link_in, subscribe

READER = "new.reader@example.org"


def messages_to(web: Web, address: str, since: int = 0) -> list[object]:
    return [r.message for r in web.smtp.handler.received[since:] if r.recipient == address]


def test_subscribe_confirm_receive_and_unsubscribe_in_one_click(web: Web) -> None:
    with web.client() as client:
        assert subscribe(client, READER, name="Reader", lang="zh").status_code == 200
        confirm = link_in(confirmation_to(web, READER))
        assert confirm.startswith(web.base + "/confirm/")
        assert client.post(confirm).status_code == 200

    first = len(web.smtp.handler.received)  # after the confirmation message
    assert send(load_config()).sent == 4  # the three, and the new reader
    [issue] = messages_to(web, READER, since=first)
    assert issue["Subject"] == "AI 论文周报 第1期"  # the Chinese edition they chose
    header = re.search(r"<(http[^>]+/unsubscribe/[^>]+)>", str(issue["List-Unsubscribe"]))
    assert header is not None and issue["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    with web.client() as client:  # what Gmail does with those two headers (RFC 8058)
        one_click = client.post(
            header.group(1),
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert one_click.status_code == 200

    add_digest(web.site, "2024-07-22.md", "2407.99003")
    compose(load_config())
    before = len(web.smtp.handler.received)
    assert send(load_config()).sent == 3
    assert messages_to(web, READER, since=before) == []
