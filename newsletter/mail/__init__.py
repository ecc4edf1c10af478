"""The transport every sender uses: SMTP sessions (`smtp`), messages built from
rendered parts (`message`, `body`, `htmlwrap`), DKIM (`dkim`, `dkim_check`), the
loopback rule, the outbox of single messages (`outbox`: confirmations and
notices the web side queues) and the capture server `smtp-sink` (`sink`)."""
