"""A real IMAP server for tests: Debian's Dovecot (`dovecot-imapd`), started with a
configuration of its own in a folder of its own, listening on 127.0.0.1 only.

It listens on two free ports: IMAP (plain, or STARTTLS) and IMAPS, with a
self-signed certificate for 127.0.0.1 made here (a test that wants TLS to verify
points `SSL_CERT_FILE` at it). Any user name logs in with `PASSWORD`, and each
user has a Maildir of its own under the folder, so one server serves many tests,
each with an empty mailbox. A wrong password is refused at once and costs the next
login nothing: `auth_failure_delay = 0`, and the auth penalty (a delay for every
login from an address that failed lately) is off, its anvil socket moved aside.

Dovecot runs everything (master, login, auth, mail) as one unprivileged user. For
a non-root user that is themselves, in the folder given. Root cannot be that user:
Dovecot refuses to run its login process or to touch mail as root. So under root
(CI) the server runs as `nobody`, in a folder of its own under /tmp (pytest's
tmp_path is readable by root only), removed when the server stops.

`start()` returns once the port answers with an IMAP greeting; `stop()` ends the
master with SIGTERM (it stops its children) and waits, then kills any process of
its own process group that is left, so no daemon outlives a test.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.smtpd import free_port

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin"])
LIBEXEC = (Path("/usr/lib/dovecot"), Path("/usr/libexec/dovecot"))
PASSWORD = "imap-Pa55w0rd-for-tests"
HOST = "127.0.0.1"


def missing() -> str | None:
    """Why Dovecot cannot run here (a reason to skip), or None."""
    if shutil.which("dovecot", path=SEARCH_PATH) is None:
        return "Dovecot is not installed: `apt-get install dovecot-imapd` (.ci/run does)"
    if not any((folder / "imap").is_file() for folder in LIBEXEC):
        return "Dovecot's IMAP server is not installed: `apt-get install dovecot-imapd`"
    return None


class Imapd:
    """One Dovecot; `extra` is more configuration (e.g. `imap_capability = …`)."""

    def __init__(self, folder: Path, extra: str = "") -> None:
        self.root = os.geteuid() == 0
        self.account = pwd.getpwnam("nobody") if self.root else pwd.getpwuid(os.geteuid())
        self.folder = Path(tempfile.mkdtemp(prefix="newsletter-imapd-")) if self.root else folder
        self.extra = extra
        self.port, self.tls_port = free_port(), free_port()
        self.cert = self.folder / "cert.pem"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Imapd:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self, timeout: float = 30) -> None:
        self._write_files()
        dovecot = shutil.which("dovecot", path=SEARCH_PATH)
        assert dovecot is not None, missing()
        as_user: dict[str, Any] = (
            {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}
            if self.root
            else {}
        )
        with (self.folder / "stderr.log").open("wb") as stderr:
            self.process = subprocess.Popen(
                [dovecot, "-F", "-c", str(self.folder / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,
                **as_user,
            )
        self._wait_for_greeting(time.monotonic() + timeout)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            _kill_what_is_left(process.pid)
        if self.root:
            shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        """What Dovecot said (its log and its stderr), to explain a failure."""
        logs = [self.folder / "dovecot.log", self.folder / "stderr.log"]
        said = [path.read_text(errors="replace") for path in logs if path.exists()]
        return "\n".join(said)[-3000:]

    def client(self, user: str) -> imaplib.IMAP4:
        """A session logged in as `user` (close it with `.logout()`)."""
        connection = imaplib.IMAP4(HOST, self.port, timeout=10)
        try:
            connection.login(user, PASSWORD)
        except BaseException:
            connection.logout()
            raise
        return connection

    def append(self, user: str, *mails: bytes, folder: str = "INBOX") -> None:
        """Deliver mail to `user`'s folder, as a mail server would (unseen)."""
        connection = self.client(user)
        try:
            for raw in mails:
                status, said = connection.append(folder, None, None, raw)
                assert status == "OK", said
        finally:
            connection.logout()

    def mails(self, user: str, folder: str = "INBOX") -> list[tuple[set[str], bytes]]:
        """The flags and bytes of every mail in a folder, read without changing it."""
        connection = self.client(user)
        try:
            if connection.select(folder, readonly=True)[0] != "OK":
                return []
            [found] = connection.uid("SEARCH", "ALL")[1]
            found_mails = []
            for uid in (found or b"").split():
                data = connection.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")[1]
                [(head, raw), *_] = [part for part in data if isinstance(part, tuple)]
                flags = imaplib.ParseFlags(head)
                found_mails.append(({flag.decode() for flag in flags}, raw))
            return found_mails
        finally:
            connection.logout()

    def folders(self, user: str, subscribed: bool = False) -> list[str]:
        """The folder names as the server lists them (modified UTF-7, not decoded)."""
        connection = self.client(user)
        try:
            listed = (connection.lsub() if subscribed else connection.list())[1]
            return sorted(line.decode().rpartition(' "." ')[2].strip('"') for line in listed)
        finally:
            connection.logout()

    def _write_files(self) -> None:
        folder = self.folder
        for sub in ("run", "state", "mail"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        key = folder / "key.pem"
        _self_signed(self.cert, key)
        (folder / "dovecot.conf").write_text(self._config())
        if self.root:
            for path in [folder, *folder.rglob("*")]:
                os.chown(path, self.account.pw_uid, self.account.pw_gid)

    def _config(self) -> str:
        folder, user = self.folder, self.account.pw_name
        group = _group_name(self.account.pw_gid)
        return f"""\
protocols = imap
listen = {HOST}
base_dir = {folder}/run
state_dir = {folder}/state
instance_name = newsletter-test
log_path = {folder}/dovecot.log
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
ssl = yes
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{folder}/mail/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = home={folder}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    path = anvil-auth-penalty-off
  }}
}}
{self.extra}
"""

    def _wait_for_greeting(self, deadline: float) -> None:
        """Until the port answers `* OK …` (Dovecot is up), or fail with its log."""
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited ({self.process.returncode}):\n{self.log()}")
            try:
                with (
                    socket.create_connection((HOST, self.port), timeout=5) as probe,
                    probe.makefile("rb") as reader,
                ):
                    if reader.readline().startswith(b"* OK"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot did not answer on {HOST}:{self.port}:\n{self.log()}")
            time.sleep(0.01)


def _kill_what_is_left(group: int) -> None:
    """Any process still in the server's process group (its children) is killed."""
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        return  # none left: the usual case


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


def _self_signed(cert: Path, key: Path) -> None:
    """A certificate for 127.0.0.1 and localhost, valid for a day, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    names = [x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(private.public_key()), critical=False
        )
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)
