"""Mail: the message for one edition and one recipient, and an SMTP connection that retries.

Only Python's own `email` and `smtplib`. Headers are built with ``email.policy.SMTP``, which refuses a
header value holding a line break; text from the data is flattened to one line before it gets there,
and an RFC 2047 encoded word in it (``=?utf-8?q?...=0D=0A...?=``) is broken up so the email package
never decodes it into structure. Then the serialised message is parsed back and compared with what was
meant (`render`): a message whose headers came out different fails its brief alone (issue 25).
Recipients come only from the audience file (issue 16).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.errors
import email.parser
import email.policy
import hashlib
import html
import logging
import os
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Literal

from briefs.data.model import is_address
from briefs.errors import BuildError, InputError

log = logging.getLogger(__name__)

TLS_MODES = ("none", "starttls", "ssl")
TlsMode = Literal["none", "starttls", "ssl"]
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "ssl": 465}
SMTP_TIMEOUT = 30.0
"""Seconds any one exchange with the SMTP server may take (connect, a reply, a login) before it is a failure."""
RETRY_DELAYS: tuple[float, ...] = (2.0, 10.0, 30.0)
"""Seconds to wait before each retry of a temporary failure (4xx reply, lost connection)."""
CONTENT_TYPES: dict[str, tuple[str, str]] = {
    "pdf": ("application", "pdf"),
    "md": ("text", "markdown"),
    "html": ("text", "html"),
    "docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
}
_LOOPBACK = ("localhost", "127.0.0.1", "::1")
# Folding a subject at 78 columns leaves two spaces before an encoded word (a CPython quirk); a
# subject kept under SUBJECT_MAX characters fits one line of the 998 SMTP allows.
_POLICY = SMTP.clone(max_line_length=998)
SUBJECT_MAX = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send: from the --smtp-* options or the BRIEFS_SMTP_* variables."""

    host: str | None
    port: int
    tls: TlsMode
    user: str | None
    sender: str
    password: str | None = field(default=None, repr=False)  # only ever from BRIEFS_SMTP_PASSWORD
    timeout: float = 30.0

    @classmethod
    def from_options(
        cls,
        host: str | None = None,
        port: int | None = None,
        tls: str | None = None,
        user: str | None = None,
        sender: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> SmtpSettings:
        """Options win over the environment; the password comes from the environment alone."""
        env = os.environ if env is None else env
        host = host or env.get("BRIEFS_SMTP_HOST") or None
        tls = tls or env.get("BRIEFS_SMTP_TLS") or "starttls"
        if tls not in TLS_MODES:
            raise InputError(f"--smtp-tls / BRIEFS_SMTP_TLS: expected one of {', '.join(TLS_MODES)}, found {tls!r}")
        if port is None and env.get("BRIEFS_SMTP_PORT"):
            text = env["BRIEFS_SMTP_PORT"]
            if not text.isdigit():
                raise InputError(f"BRIEFS_SMTP_PORT: expected a port number, found {text!r}")
            port = int(text)
        port = DEFAULT_PORTS[tls] if port is None else port
        if not 0 < port < 65536:
            raise InputError(f"--smtp-port / BRIEFS_SMTP_PORT: expected 1 to 65535, found {port}")
        user = user or env.get("BRIEFS_SMTP_USER") or None
        password = env.get("BRIEFS_SMTP_PASSWORD") or None
        sender = sender or env.get("BRIEFS_SMTP_FROM") or None
        if sender is None:
            sender = user if user and "@" in user else f"briefs@{_domain()}"
        if not is_address(sender):
            raise InputError(f"--smtp-from / BRIEFS_SMTP_FROM: expected an e-mail address, found {sender!r}")
        return cls(host, port, tls, user, sender, password, SMTP_TIMEOUT)  # type: ignore[arg-type]

    def check(self) -> None:
        """Refuse settings that cannot send, or would send a password in the clear."""
        if not self.host:
            raise InputError("send: no SMTP server; give --smtp-host or BRIEFS_SMTP_HOST (or --dry-run)")
        if self.user and not self.password:
            raise InputError("send: --smtp-user needs the password in BRIEFS_SMTP_PASSWORD")
        if self.user and self.tls == "none" and self.host not in _LOOPBACK:
            raise InputError("send: refusing to log in without TLS; use --smtp-tls starttls or ssl")

    def describe(self) -> str:
        """Host, port and TLS mode, for logs (never the password)."""
        return f"{self.host}:{self.port} ({self.tls}{', as ' + self.user if self.user else ''})"


def _domain() -> str:
    name = socket.getfqdn()
    return name if is_address(f"briefs@{name}") else "localhost.localdomain"


def one_line(text: str) -> str:
    """Text from the data made safe for a header: control characters and line breaks become spaces."""
    return " ".join(_CONTROL.sub(" ", text).split())


def header_text(text: str) -> str:
    """One line of data for a header, with no RFC 2047 encoded word the email package would decode.

    ``email`` decodes ``=?charset?q?...?=`` found in a header value we set, then writes the decoded
    text out again, CR/LF included (a forged Reply-To, a replaced body). A zero-width space between
    ``=`` and ``?`` keeps the text as the reader sees it and makes it no encoded word: it is sent
    encoded by us, and decodes at the reader's end to the literal characters of the data.
    """
    return one_line(text).replace("=?", "=\u200b?")


class LetterError(Exception):
    """The message for a brief could not be made safely (its headers did not come out as meant)."""


def message_id(dataset: str, audience: str, edition: int, edition_hash: str, recipient: str, sender: str) -> str:
    """The same Message-ID for the same delivery, every time: how a re-send after a crash is recognised."""
    key = "\0".join((dataset, audience, str(edition), edition_hash, recipient.lower()))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    domain = sender.rpartition("@")[2]
    return f"<briefs.{dataset}.{audience}.{edition}.{digest}@{domain}>"


@dataclass(frozen=True)
class Attachment:
    """One of the brief's own outputs, read when the letter was prepared."""

    filename: str
    fmt: str
    data: bytes


@dataclass(frozen=True)
class Letter:
    """What one edition of one brief says by mail, the same for each of its recipients."""

    dataset: str
    audience: str
    edition: int
    edition_hash: str
    subject: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.audience} edition {self.edition}"

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.to + self.cc


def compose(letter: Letter, sender: str, date: str, mid: str) -> EmailMessage:
    """The message for one recipient: plain text, an HTML alternative, and the attachments."""
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = Address(addr_spec=sender)
    msg["To"] = [Address(addr_spec=a) for a in letter.to]
    if letter.cc:
        msg["Cc"] = [Address(addr_spec=a) for a in letter.cc]
    subject = header_text(letter.subject)
    msg["Subject"] = subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 1].rstrip() + "…"
    msg["Date"] = date
    msg["Message-ID"] = mid
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies are not sent back
    msg["X-Briefs-Edition"] = f"{letter.dataset}/{letter.audience}/{letter.edition}"
    msg.set_content(letter.text, cte="quoted-printable")
    msg.add_alternative(letter.html, subtype="html", cte="quoted-printable")
    for item in letter.attachments:
        maintype, subtype = CONTENT_TYPES[item.fmt]
        # As bytes, base64: the reader gets the file byte for byte (a text part would get CRLF line ends).
        params = {"charset": "utf-8"} if maintype == "text" else {}
        msg.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename, params=params)
    # Boundaries from the content, not at random: a re-sent message is byte for byte the first one.
    seed = hashlib.sha256(mid.encode("utf-8") + letter.text.encode("utf-8"))
    for data in (a.data for a in letter.attachments):
        seed.update(data)
    for i, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_briefs_{i}_{seed.hexdigest()[:32]}")
    return msg


def _expected_headers(letter: Letter) -> list[str]:
    names = ["From", "To", *(["Cc"] if letter.cc else []), "Subject", "Date", "Message-ID"]
    return [*names, "Auto-Submitted", "X-Briefs-Edition", "MIME-Version", "Content-Type"]


def render(letter: Letter, sender: str, date: str, mid: str) -> bytes:
    """The message as bytes, verified: read back, it has exactly the headers, subject and parts meant.

    Raises LetterError (naming the brief) when serialising fails or changes the structure, so one
    brief fails and the others are still sent.
    """
    try:
        msg = compose(letter, sender, date, mid)
        raw = msg.as_bytes()
    except (ValueError, TypeError, email.errors.MessageError) as exc:  # HeaderWriteError on patched Pythons
        raise LetterError(f"{letter.name}: the message could not be written safely: {exc}") from None
    back = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    problems = []
    names = list(back.keys())
    if names != _expected_headers(letter):
        problems.append(f"headers {', '.join(names)}")
    if back.get("Message-ID") != mid:
        problems.append("Message-ID")
    if str(back.get("Subject", "")) != str(msg["Subject"]):
        problems.append("Subject")
    parts = [p for p in back.walk() if not p.is_multipart()]
    top = "multipart/mixed" if letter.attachments else "multipart/alternative"
    if len(parts) != 2 + len(letter.attachments) or back.get_content_type() != top:
        problems.append(f"{len(parts)} parts in {back.get_content_type()}")
    elif [p.get_filename() for p in parts[2:]] != [a.filename for a in letter.attachments]:
        problems.append("attachments")
    if problems:
        raise LetterError(f"{letter.name}: the message came out different from what was meant ({'; '.join(problems)})")
    return raw


def now_date() -> str:
    """A Date header for now, in local time."""
    return format_datetime(dt.datetime.now().astimezone())


def letter_text(
    title: str, lines: Sequence[str], bluf_text: str, changes_title: str | None, changes: Sequence[str], marking: str
) -> str:
    """The plain-text body: marking, title, edition line, BLUF or summary, what changed, marking."""
    out: list[str] = [marking, ""] if marking else []
    out += [title, *lines, "", bluf_text]
    if changes_title and changes:
        out += ["", f"{changes_title}:", *(f"- {c}" for c in changes)]
    if marking:
        out += ["", marking]
    return "\n".join(out) + "\n"


def letter_html(
    title: str, lines: Sequence[str], bluf_html: str, changes_title: str | None, changes: Sequence[str], marking: str
) -> str:
    """The HTML alternative: the same content; data is escaped or sanitised before it gets here."""
    esc = html.escape
    mark = f'<p style="text-align:center;font-weight:bold">{esc(marking)}</p>\n' if marking else ""
    body = [mark, f"<h1>{esc(title)}</h1>\n", *(f"<p>{esc(line)}</p>\n" for line in lines), f"<p>{bluf_html}</p>\n"]
    if changes_title and changes:
        body.append(f"<h2>{esc(changes_title)}</h2>\n<ul>\n")
        body += [f"<li>{esc(c)}</li>\n" for c in changes]
        body.append("</ul>\n")
    body.append(mark)
    return '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n' + "".join(body) + "</body></html>\n"


class TemporarySendError(Exception):
    """A 4xx reply or a lost connection: worth trying again later."""


class PermanentSendError(Exception):
    """A 5xx reply: this recipient (or this message) is refused."""


def _classify(code: int, reply: bytes | str, what: str) -> Exception:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{what}: {code} {one_line(text)}"
    return TemporarySendError(message) if 400 <= code < 500 else PermanentSendError(message)


class Mailer:
    """One SMTP connection, opened when first needed and reopened after a failure."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None
        self.patient = True  # after one message ran out of retries, the rest are tried once each

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Say QUIT (or just drop a broken connection)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.host is not None
        context = ssl.create_default_context()
        conn: smtplib.SMTP
        try:
            if s.tls == "ssl":
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.tls == "starttls":
                    conn.ehlo()
                    conn.starttls(context=context)
        except ssl.SSLCertVerificationError as exc:
            raise BuildError(f"{s.describe()}: the server's certificate is not trusted: {exc.verify_message}") from None
        except smtplib.SMTPNotSupportedError:
            raise BuildError(f"{s.describe()}: the server does not offer STARTTLS (--smtp-tls)") from None
        conn.ehlo()
        if s.user:
            self._login(conn)
        return conn

    def _login(self, conn: smtplib.SMTP) -> None:
        """Log in once, with one mechanism; any failure stops the run (issue 25).

        A wrong password is the same for every message, and servers lock an account after a few: so a
        refusal, and a server that refuses and hangs up or stalls (smtplib would then try its next
        mechanism, and each message would retry), is never tried again in this run.
        """
        s = self.settings
        assert s.user is not None and s.password is not None
        advertised = (conn.esmtp_features.get("auth") or "").upper().split()
        mechanism = next((m for m in ("CRAM-MD5", "PLAIN", "LOGIN") if m in advertised), None)
        try:
            if mechanism is None:
                offered = " ".join(advertised) or "nothing"
                raise BuildError(f"{s.describe()}: the server offers no login this tool can use (AUTH: {offered})")
            conn.user, conn.password = s.user, s.password
            conn.auth(mechanism, getattr(conn, "auth_" + mechanism.lower().replace("-", "_")), initial_response_ok=True)
        except smtplib.SMTPAuthenticationError as exc:
            conn.close()
            raise BuildError(f"{s.describe()}: login refused: {exc.smtp_code}; stopped, not tried again") from None
        except (smtplib.SMTPException, OSError) as exc:  # refused and hung up, stalled, garbled
            conn.close()
            what = f"{type(exc).__name__}: {exc}".rstrip(": ")
            raise BuildError(f"{s.describe()}: login failed ({what}); stopped, not tried again") from None
        except BuildError:
            conn.close()
            raise

    def _attempt(self, raw: bytes, recipient: str) -> None:
        try:
            if self._conn is None:
                self._conn = self._connect()
            self._conn.sendmail(self.settings.sender, [recipient], raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(recipient, (550, b"refused"))
            raise _classify(code, reply, f"{recipient} refused") from None
        except smtplib.SMTPSenderRefused as exc:
            raise _classify(exc.smtp_code, exc.smtp_error, f"sender {self.settings.sender} refused") from None
        except smtplib.SMTPResponseException as exc:  # data refused, 421 on connect, …
            raise _classify(exc.smtp_code, exc.smtp_error, "server replied") from None
        except (smtplib.SMTPException, OSError) as exc:  # refused connection, lost connection, timeout, TLS
            raise TemporarySendError(f"{self.settings.describe()}: {type(exc).__name__}: {exc}") from None

    def deliver(self, raw: bytes, recipient: str) -> None:
        """Send one message to one recipient; retry temporary failures with back-off, then raise."""
        for attempt, delay in enumerate((*RETRY_DELAYS, None) if self.patient else (None,)):
            try:
                self._attempt(raw, recipient)
                return
            except TemporarySendError as exc:
                self._drop()
                if delay is None:
                    self.patient = False
                    raise
                log.info("%s; retry %d in %g s", exc, attempt + 1, delay)
                time.sleep(delay)
            except PermanentSendError:
                self._reset()
                raise

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def _reset(self) -> None:
        # smtplib resets a refused transaction itself; a connection that cannot is started afresh.
        if self._conn is not None:
            try:
                self._conn.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()
