"""A real DNS server for tests: UDP on 127.0.0.1, answering from dicts.

Built on dnspython's wire format (the same library the resolver uses, but none of
its resolving code): it answers TXT queries from `records`, and any type from
`typed` (`{("example.org", "MX"): ["10 mx.example.org."]}`, each in zone-file
text); no records of the type asked for a known name (NOERROR, empty), NXDOMAIN for
any other name, or SERVFAIL for everything when `failing` is set.
"""

from __future__ import annotations

import socket
import threading

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class DnsServer:
    """`with DnsServer({"s._domainkey.example.org": [b"v=DKIM1; ..."]}) as dns:` and
    point a resolver at `dns.address` (`127.0.0.1:PORT`)."""

    def __init__(
        self,
        records: dict[str, list[bytes]] | None = None,
        typed: dict[tuple[str, str], list[str]] | None = None,
    ) -> None:
        self.records = records or {}
        self.typed = typed or {}
        self.failing = False
        self.stopping = False
        self.queries: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> DnsServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping = True
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as waker:  # ends recvfrom
            waker.sendto(b"", self.sock.getsockname())
        self.thread.join()
        self.sock.close()

    def _serve(self) -> None:
        while True:
            wire, client = self.sock.recvfrom(4096)
            if self.stopping:
                return
            self.sock.sendto(self._answer(dns.message.from_wire(wire)).to_wire(), client)

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        self.queries.append(name)
        if self.failing:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif name not in self.records and name not in {known for known, _ in self.typed}:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif (name, dns.rdatatype.to_text(question.rdtype)) in self.typed:
            texts = self.typed[name, dns.rdatatype.to_text(question.rdtype)]
            response.answer.append(
                dns.rrset.from_text(question.name, 60, dns.rdataclass.IN, question.rdtype, *texts)
            )
        elif question.rdtype == dns.rdatatype.TXT and self.records.get(name):
            texts = [
                " ".join(f'"{chunk.decode()}"' for chunk in _strings(record))
                for record in self.records[name]
            ]
            response.answer.append(
                dns.rrset.from_text(question.name, 60, dns.rdataclass.IN, dns.rdatatype.TXT, *texts)
            )
        return response


def _strings(record: bytes) -> list[bytes]:
    """A TXT record's text as character-strings of at most 255 bytes, as published."""
    return [record[i : i + 255] for i in range(0, len(record), 255)]
