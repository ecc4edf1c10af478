"""The transport every sender uses: SMTP sessions (`smtp`), messages built from
rendered parts (`message`, `body`, `htmlwrap`), DKIM (`dkim`, `dkim_check`), a
server's reply read for its status (`replies`), the loopback rule, the outbox of
single messages (`outbox`: confirmations the web side queues) and the capture
server `smtp-sink` (`sink`)."""
