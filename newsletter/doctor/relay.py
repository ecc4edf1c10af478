"""The SMTP relay: reachable, TLS as `smtp.security` says (implicit TLS, or
STARTTLS) with a certificate valid for `smtp.host`, and the login accepted when
`smtp.username` is set (the password from the environment). Nothing is sent: the
session ends with QUIT after the login."""

from __future__ import annotations

import smtplib
import ssl
from contextlib import suppress

from newsletter.config import Config, SmtpSettings
from newsletter.doctor.check import Check, fail, ok, skip, warn
from newsletter.mail.loopback import may_be_loopback, peer_is_loopback
from newsletter.mail.smtp import describe_error

TIMEOUT = 10.0


def checks(config: Config) -> list[Check]:
    settings = config.smtp
    where = f"{settings.host}:{settings.port}"
    try:
        connection = _connect(settings)
    except ssl.SSLError as error:  # implicit TLS: reached, but the handshake failed
        return [
            ok("smtp.connect", f"{where} answers (the TLS handshake then failed)"),
            fail("smtp.tls", _tls_problem(where, error)),
            skip("smtp.auth", "no TLS session"),
        ]
    except (OSError, smtplib.SMTPException) as error:
        return [
            fail(
                "smtp.connect",
                f"cannot reach {where}: {describe_error(error)}: check smtp.host, "
                "smtp.port and the firewall",
            ),
            skip("smtp.tls", "the relay is not reachable"),
            skip("smtp.auth", "the relay is not reachable"),
        ]
    try:
        found = [ok("smtp.connect", f"{where} answers EHLO ({_greeting(connection)})")]
        found.append(_tls(connection, settings, where))
        if found[-1].result == "fail" and settings.security != "none":
            return [*found, skip("smtp.auth", "no TLS session")]
        return [*found, _auth(connection, config, where)]
    finally:
        with suppress(OSError, smtplib.SMTPException):
            connection.quit()


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    timeout = min(settings.timeout, TIMEOUT)
    if settings.security == "tls":
        context = ssl.create_default_context()
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=timeout, context=context
        )
    else:
        connection = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    connection.ehlo()
    return connection


def _tls(connection: smtplib.SMTP, settings: SmtpSettings, where: str) -> Check:
    if settings.security == "tls":
        return ok("smtp.tls", _tls_said(connection, "implicit TLS", settings.host))
    if settings.security == "none":
        if peer_is_loopback(connection.sock):
            return ok("smtp.tls", "security = none: the relay is on this machine")
        return warn(
            "smtp.tls",
            f"security = none: mail (and any password) cross the network to {where} in "
            "clear: set smtp.security to starttls (port 587) or tls (port 465)",
        )
    if not connection.has_extn("starttls"):
        return fail(
            "smtp.tls",
            f"{where} does not offer STARTTLS (smtp.security = starttls): "
            "use security = tls if it is an implicit-TLS port (465)",
        )
    try:
        connection.starttls(context=ssl.create_default_context())
        connection.ehlo()
    except ssl.SSLError as error:
        return fail("smtp.tls", _tls_problem(where, error))
    return ok("smtp.tls", _tls_said(connection, "STARTTLS", settings.host))


def _auth(connection: smtplib.SMTP, config: Config, where: str) -> Check:
    settings = config.smtp
    if not settings.username:
        return skip("smtp.auth", "smtp.username is empty: no login")
    if not config.smtp_password:
        return fail(
            "smtp.auth",
            f"no password for {settings.username!r}: set the environment variable "
            f"{settings.password_env or 'NEWSLETTER_SMTP_PASSWORD'} (smtp.password_env)",
        )
    if settings.security == "none" and not (
        may_be_loopback(settings.host) and peer_is_loopback(connection.sock)
    ):
        return fail("smtp.auth", "refusing to send the password in clear: set smtp.security")
    try:
        connection.login(settings.username, config.smtp_password)
    except (OSError, smtplib.SMTPException) as error:
        return fail(
            "smtp.auth",
            f"{where} refused the login of {settings.username!r}: {describe_error(error)}: check "
            f"smtp.username and ${settings.password_env}",
        )
    return ok("smtp.auth", f"logged in as {settings.username!r} (nothing sent)")


def _greeting(connection: smtplib.SMTP) -> str:
    said = (connection.ehlo_resp or b"").decode("utf-8", "replace").splitlines()
    return said[0][:60] if said else "EHLO accepted"


def _tls_said(connection: smtplib.SMTP, how: str, host: str) -> str:
    sock = connection.sock
    protocol = sock.version() if isinstance(sock, ssl.SSLSocket) else None
    return f"{how} ({protocol}), its certificate valid for {host}"


def _tls_problem(where: str, error: ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return (
            f"the certificate of {where} is not valid: {error.verify_message}: the relay "
            "needs a certificate for smtp.host from a trusted CA (or name the host it has)"
        )
    return f"the TLS handshake with {where} failed: {error.reason or error}: check smtp.security"
