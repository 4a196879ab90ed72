"""`send`, `build --send`: each new edition reaches its readers once, by mail (issue 16).

A real SMTP server (aiosmtpd) runs on 127.0.0.1 for each test; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from briefs.deliver import mail
from briefs.pipeline.editions import latest_edition
from tests.conftest import REPO, RunCli, write_tree

pytest.importorskip("aiosmtpd", reason="aiosmtpd is in the test extra: pip install -e '.[test]'")
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

RECIPIENTS = ["a@example.org", "b@example.org", "c@example.org"]


class Handler:
    """An SMTP server's mailbox with switches: refuse recipients, fail DATA for a while, block on a message."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.fail_data = 0  # answer 451 to this many DATA commands first
        self.block_first = False  # hold the first message's reply until `release` is set
        self.got_first = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.fail_data > 0:
            self.fail_data -= 1
            return "451 4.3.0 Try again later"
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        if self.block_first and len(self.messages) == 1:
            # The server has the message; the sender has not yet heard "250", so has not logged it.
            self.got_first.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        return "250 OK"

    def parsed(self) -> list[tuple[list[str], EmailMessage]]:
        out = []
        for rcpts, raw in self.messages:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            out.append((rcpts, msg))
        return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(handler: Handler, **smtp_options: Any) -> Iterator[int]:
    """Run an SMTP server for ``handler`` on a free port of 127.0.0.1; yields the port."""
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    try:
        yield port
    finally:
        handler.release.set()
        controller.stop()


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Handler, int]]:
    """A real SMTP server on a free port of 127.0.0.1, stopped after the test."""
    for name in ("HOST", "PORT", "USER", "PASSWORD", "TLS", "FROM"):
        monkeypatch.delenv(f"BRIEFS_SMTP_{name}", raising=False)
    monkeypatch.setattr(mail, "RETRY_DELAYS", (0.05, 0.1, 0.2))
    handler = Handler()
    with serve(handler) as port:
        yield handler, port


AUDIENCE = """\
    title: Mail Memo
    marking: UNCLASSIFIED
    formats: [pdf, md]
    sections: [bluf, changes, key_points]
    distribution:
      to: [a@example.org, b@example.org]
      cc: [c@example.org]
      attach: [md]
      send: {send}
      subject: "{{title}}, edition {{edition}} of {{date}}"
    """


def audience(root: Path, send: str = "every-edition", text: str = AUDIENCE) -> Path:
    """A --templates folder with one audience, `mail`, that has a distribution list."""
    return write_tree(root / "tpl", {"audiences/mail.yaml": text.format(send=send)})


class Site:
    """Paths and CLI arguments of one test's data, templates and output."""

    def __init__(self, data: Path, tpl: Path, port: int) -> None:
        self.data, self.tpl, self.out = data, tpl, data.parent / "out"
        self.port = port

    @property
    def where(self) -> list[str]:
        return ["--data", str(self.data), "--templates", str(self.tpl), "--out", str(self.out), "--audience", "mail"]

    @property
    def smtp(self) -> list[str]:
        return ["--smtp-host", "127.0.0.1", "--smtp-port", str(self.port), "--smtp-tls", "none"]

    def build(self, run_cli: RunCli, *extra: str) -> tuple[int, str, str]:
        return run_cli("build", *self.where, "--format", "md", *extra)

    def send(self, run_cli: RunCli, *extra: str) -> tuple[int, str, str]:
        return run_cli("send", *self.where, *self.smtp, *extra)

    def log(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = json.loads((self.out / ".briefs/deliveries.json").read_text())["deliveries"]
        return entries


@pytest.fixture
def site(mini_data: Path, smtp: tuple[Handler, int]) -> Site:
    return Site(mini_data, audience(mini_data.parent), smtp[1])


def _edit_bluf(data: Path, text: str) -> None:
    path = data / "mini/dataset.yaml"
    path.write_text(path.read_text().replace("bluf: Floods hit Testland; aid is needed.", f"bluf: {text}"))


def _plain(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_messages_arrive_with_recipients_subject_body_attachments(
    site: Site, smtp: tuple[Handler, int], run_cli: RunCli
) -> None:
    handler, _ = smtp
    assert site.build(run_cli)[0] == 0
    code, out, err = site.send(run_cli)
    assert code == 0, err
    assert "send: 3 sent, 0 already sent, 0 skipped, 0 failed" in out
    messages = handler.parsed()
    # One message per recipient, each delivered to that recipient alone; the headers show the list.
    assert sorted(r for rcpts, _ in messages for r in rcpts) == RECIPIENTS
    assert all(len(rcpts) == 1 for rcpts, _ in messages)
    ids = set()
    for _, msg in messages:
        assert msg["To"] == "a@example.org, b@example.org"
        assert msg["Cc"] == "c@example.org"
        assert msg["Subject"] == "Mini brief on Testland, edition 1 of June 30, 2022"
        assert msg["Auto-Submitted"] == "auto-generated"
        ids.add(msg["Message-ID"])
        text = _plain(msg).splitlines()
        assert text[0] == "UNCLASSIFIED" and text[-1] == "UNCLASSIFIED"
        assert "Floods hit Testland; aid is needed." in text
        assert "What changed" not in "\n".join(text)  # a first edition
        html_part = msg.get_body(("html",))
        assert html_part is not None and "<h1>Mini brief on Testland</h1>" in html_part.get_content()
        attachments = list(msg.iter_attachments())
        assert [a.get_filename() for a in attachments] == ["mini-mail.md"]
        assert attachments[0].get_content_type() == "text/markdown"
        assert attachments[0].get_content().encode("utf-8") == (site.out / "mini/mail.md").read_bytes()
    assert len(ids) == 3
    assert [(e["recipient"], e["state"], e["edition"]) for e in site.log()] == [(r, "sent", 1) for r in RECIPIENTS]


@pytest.mark.slow
def test_pdf_attachment_is_the_built_pdf(mini_data: Path, smtp: tuple[Handler, int], run_cli: RunCli) -> None:
    handler, port = smtp
    site = Site(mini_data, audience(mini_data.parent, text=AUDIENCE.replace("attach: [md]", "attach: [pdf, md]")), port)
    code, out, err = run_cli("build", *site.where, "--send", *site.smtp)  # build --send: one command
    assert code == 0, err
    assert "send: 3 sent" in out
    for _, msg in handler.parsed():
        pdf, md = msg.iter_attachments()
        assert (pdf.get_filename(), pdf.get_content_type()) == ("mini-mail.pdf", "application/pdf")
        assert pdf.get_content() == (site.out / "mini/mail.pdf").read_bytes()
        assert md.get_filename() == "mini-mail.md"


def test_second_send_sends_nothing(site: Site, smtp: tuple[Handler, int], run_cli: RunCli) -> None:
    handler, _ = smtp
    site.build(run_cli)
    assert site.send(run_cli)[0] == 0
    code, out, _ = site.send(run_cli)
    assert code == 0
    assert "send: 0 sent, 3 already sent" in out
    assert len(handler.messages) == 3
    # build --send with nothing new (the no-op fast path) sends nothing either.
    code, out, _ = run_cli("build", *site.where, "--format", "md", "--send", *site.smtp)
    assert code == 0 and "0 sent, 3 already sent" in out
    assert len(handler.messages) == 3


def test_an_edit_that_makes_a_new_edition_sends_once_more(
    site: Site, smtp: tuple[Handler, int], run_cli: RunCli
) -> None:
    handler, _ = smtp
    site.build(run_cli)
    site.send(run_cli)
    _edit_bluf(site.data, "Floods hit Testland again; more aid is needed.")
    code, out, err = run_cli("build", *site.where, "--format", "md", "--send", *site.smtp)
    assert code == 0, err
    assert "send: 3 sent, 0 already sent" in out
    assert len(handler.messages) == 6
    for _, msg in handler.parsed()[3:]:
        assert msg["Subject"] == "Mini brief on Testland, edition 2 of June 30, 2022"
        text = _plain(msg)
        assert "Floods hit Testland again; more aid is needed." in text
        # The mail names the previous edition as the brief does (issue 24: "the edition of June 30, 2022"
        # against the brief's "edition 1 (built …)").
        heading = next(
            line.removeprefix("## ")
            for line in (site.out / "mini" / "mail.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("## What changed since")
        )
        assert heading.startswith("What changed since edition 1 (built ")
        assert f"{heading}:" in text
        assert "- Revised the bottom line: Floods hit Testland again; more aid is needed." in text
    assert site.send(run_cli)[0] == 0
    assert len(handler.messages) == 6


@pytest.mark.parametrize(("send", "expected"), [("when-changed", 0), ("every-edition", 3)])
def test_when_changed_skips_an_edition_with_no_material_changes(
    mini_data: Path, smtp: tuple[Handler, int], run_cli: RunCli, send: str, expected: int
) -> None:
    handler, port = smtp
    site = Site(mini_data, audience(mini_data.parent, send), port)
    site.build(run_cli)
    site.send(run_cli)
    assert len(handler.messages) == 3
    # The audience now shows recommendations too: a new edition (its records changed), but nothing in
    # the data changed, so "What changed" is empty.
    path = site.tpl / "audiences/mail.yaml"
    path.write_text(path.read_text().replace("key_points]", "key_points, recommendations]"))
    site.build(run_cli)
    edition = latest_edition(site.out, "mini", "mail")
    assert edition is not None and edition.number == 2
    code, out, _ = site.send(run_cli)
    assert code == 0
    assert len(handler.messages) == 3 + expected
    if send == "when-changed":
        assert "skipped mini/mail edition 2: nothing material changed (send: when-changed)" in out
        # The next material change goes out, measured against the last edition sent.
        _edit_bluf(site.data, "Floods hit Testland again.")
        site.build(run_cli)
        assert site.send(run_cli)[0] == 0
        assert len(handler.messages) == 6
        assert "edition 3" in handler.parsed()[-1][1]["Subject"]


def test_when_changed_still_sends_to_a_recipient_whose_delivery_failed(
    mini_data: Path, smtp: tuple[Handler, int], run_cli: RunCli
) -> None:
    handler, port = smtp
    site = Site(mini_data, audience(mini_data.parent, "when-changed"), port)
    handler.refuse = {"b@example.org"}
    site.build(run_cli)
    assert site.send(run_cli)[0] == 1  # b's mail bounced: a and c have edition 1
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == ["a@example.org", "c@example.org"]
    path = site.tpl / "audiences/mail.yaml"  # edition 2, with nothing material changed since edition 1
    path.write_text(path.read_text().replace("key_points]", "key_points, recommendations]"))
    site.build(run_cli)
    handler.refuse = set()
    code, out, err = site.send(run_cli)
    assert code == 0, err
    # b has had nothing yet, so edition 2 is news to b; a and c had edition 1 and are not mailed again.
    assert [rcpts for rcpts, _ in handler.messages[2:]] == [["b@example.org"]]
    assert "edition 2" in handler.parsed()[-1][1]["Subject"]
    assert "skipped mini/mail edition 2 to a@example.org: nothing material changed since the edition" in out
    assert "send: 1 sent, 0 already sent, 2 skipped, 0 failed" in out
    assert site.send(run_cli)[0] == 0 and len(handler.messages) == 3  # and only once


def test_a_server_that_fails_temporarily_is_retried(site: Site, smtp: tuple[Handler, int], run_cli: RunCli) -> None:
    handler, _ = smtp
    handler.fail_data = 2  # 451 twice: the first message is retried twice
    site.build(run_cli)
    code, _, err = site.send(run_cli, "-v")
    assert code == 0, err
    assert "451 4.3.0 Try again later; retry 1" in err and "retry 2" in err
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == RECIPIENTS


def test_a_server_that_is_down_fails_then_a_later_send_delivers(
    site: Site, smtp: tuple[Handler, int], run_cli: RunCli
) -> None:
    handler, _ = smtp
    site.build(run_cli)
    closed = _free_port()  # nothing listens there
    code, _, err = run_cli("send", *site.where, "--smtp-host", "127.0.0.1", "--smtp-port", closed, "--smtp-tls", "none")
    assert code == 1
    for r in RECIPIENTS:
        assert f"FAILED mini/mail edition 1 to {r}: 127.0.0.1:{closed}" in err
    assert {e["state"] for e in site.log()} == {"failed"}
    assert site.send(run_cli)[0] == 0
    assert len(handler.messages) == 3


def test_a_refused_recipient_fails_alone(site: Site, smtp: tuple[Handler, int], run_cli: RunCli) -> None:
    handler, _ = smtp
    handler.refuse = {"b@example.org"}
    site.build(run_cli)
    code, out, err = site.send(run_cli)
    assert code == 1
    assert "FAILED mini/mail edition 1 to b@example.org: b@example.org refused: 550 5.1.1 No such user here" in err, err
    assert "send: 2 sent, 0 already sent, 0 skipped, 1 failed" in out
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == ["a@example.org", "c@example.org"]
    # Once the address works, the next send delivers to it alone.
    handler.refuse = set()
    code, out, _ = site.send(run_cli)
    assert code == 0 and "send: 1 sent, 2 already sent" in out
    assert handler.messages[-1][0] == ["b@example.org"]


def _send_process(site: Site) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFS_SMTP_")}
    return subprocess.Popen(
        [sys.executable, "build.py", "send", *site.where, *site.smtp, "-q"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_sigkill_mid_send_then_restart_delivers_each_message_once(
    site: Site, smtp: tuple[Handler, int], run_cli: RunCli
) -> None:
    handler, _ = smtp
    site.build(run_cli)
    handler.block_first = True
    proc = _send_process(site)
    try:
        assert handler.got_first.wait(60), proc.communicate(timeout=5)
        # The server holds the first message; the sender waits for the reply and has logged only its intent.
        assert [e["state"] for e in site.log()] == ["sending"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    handler.release.set()
    handler.block_first = False
    code, _, err = site.send(run_cli)
    assert code == 0, err
    assert "an earlier send was interrupted; sending again as <briefs.mini.mail.1." in err
    # At the server: the interrupted message came twice, byte for byte, with one Message-ID; deduplicated
    # by Message-ID (as a mailbox does), every recipient has the edition exactly once.
    messages = handler.parsed()
    assert len(messages) == 4
    assert handler.messages[0] == handler.messages[1]
    by_id = {msg["Message-ID"]: rcpts for rcpts, msg in messages}
    assert sorted(r for rcpts in by_id.values() for r in rcpts) == RECIPIENTS
    assert {e["state"] for e in site.log()} == {"sent"}
    assert site.send(run_cli)[0] == 0
    assert len(handler.messages) == 4


def test_two_concurrent_senders_never_both_send(site: Site, smtp: tuple[Handler, int], run_cli: RunCli) -> None:
    handler, _ = smtp
    site.build(run_cli)
    procs = [_send_process(site) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == RECIPIENTS


def test_a_hostile_subject_cannot_add_a_header(site: Site, smtp: tuple[Handler, int], run_cli: RunCli) -> None:
    handler, _ = smtp
    path = site.data / "mini/dataset.yaml"
    hostile = '"Mini\\r\\nBcc: evil@example.com\\nX-Evil: 1\\r\\n\\r\\nbody"'
    path.write_text(path.read_text().replace("title: Mini brief on Testland", f"title: {hostile}"))
    site.build(run_cli)
    code, _, err = site.send(run_cli)
    assert code == 0, err
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == RECIPIENTS
    for _, msg in handler.parsed():
        assert msg["Bcc"] is None and msg["X-Evil"] is None
        assert msg["Subject"] == "Mini Bcc: evil@example.com X-Evil: 1 body, edition 1 of June 30, 2022"
        assert msg["To"] == "a@example.org, b@example.org"


ENCODED_WORD = "=?utf-8?q?Brief=0D=0AReply-To:_x@attacker.example=0D=0A=0D=0AFake_body?="


def test_an_encoded_word_in_the_data_cannot_become_structure(
    site: Site, smtp: tuple[Handler, int], run_cli: RunCli
) -> None:
    """Issue 25 (high): an RFC 2047 word decoding to CR/LF gave a forged Reply-To and a replaced body."""
    handler, _ = smtp
    path = site.data / "mini/dataset.yaml"
    path.write_text(path.read_text().replace("title: Mini brief on Testland", f"title: '{ENCODED_WORD}'"))
    site.build(run_cli)
    code, _, err = site.send(run_cli)
    assert code == 0, err
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == RECIPIENTS
    for _, msg in handler.parsed():
        assert msg["Reply-To"] is None
        assert msg["Message-ID"] and msg["Message-ID"].startswith("<briefs.mini.mail.1.")
        # The reader sees the data's characters, literally (a zero-width space keeps them no encoded word).
        assert str(msg["Subject"]).replace("\u200b", "") == f"{ENCODED_WORD}, edition 1 of June 30, 2022"
        assert "Fake body" not in _plain(msg)
        assert [p.get_filename() for p in msg.iter_attachments()] == ["mini-mail.md"]


def test_a_message_that_comes_out_different_fails_its_brief_not_the_run(
    mini_data: Path, smtp: tuple[Handler, int], run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the encoded-word guard taken away (an older filter, or a new email bug), the read-back catches it."""
    handler, port = smtp
    shutil.copytree(mini_data / "mini", mini_data / "mini2")
    path = mini_data / "mini2/dataset.yaml"
    text = path.read_text().replace("title: Mini brief on Testland", f"title: '{ENCODED_WORD}'")
    path.write_text(text.replace("id: mini\n", "id: mini2\n"))
    site = Site(mini_data, audience(mini_data.parent), port)
    site.build(run_cli)
    monkeypatch.setattr(mail, "header_text", mail.one_line)
    code, out, err = site.send(run_cli)
    assert code == 1
    assert "FAILED mini2/mail edition 1: mini2/mail edition 1: the message came out different" in out + err
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == RECIPIENTS  # mini's went out
    assert all(msg["Reply-To"] is None for _, msg in handler.parsed())


def test_an_address_with_a_trailing_newline_is_refused_by_check(mini_data: Path, run_cli: RunCli) -> None:
    """Issue 25: `$` matched before a final newline, so check passed and send aborted with a traceback."""
    tpl = audience(mini_data.parent, text=AUDIENCE.replace("cc: [c@example.org]", 'cc: ["c@example.org\\n"]'))
    code, _, err = run_cli("check", "--data", mini_data, "--templates", tpl, "--audience", "mail")
    assert code == 2, err
    assert "distribution.cc[0]" in err and "an e-mail address such as" in err
    assert not mail.is_address("c@example.org\n") and mail.is_address("c@example.org")


@pytest.mark.parametrize(
    ("line", "key", "message"),
    [
        ('      subject: "{{title}}\\r\\nBcc: evil@example.com"', "distribution.subject", "one line of text"),
        ('      subject: "{{title.__class__}}"', "distribution.subject", "placeholders among {title}"),
        ('      subject: "{{0}}"', "distribution.subject", "placeholders among {title}"),
        ("      to: [a@example.org, 'evil@example.com\\nBcc: x@example.com']", "distribution.to[1]", "an e-mail"),
        ("      to: [not-an-address]", "distribution.to[0]", "an e-mail address such as"),
        ("      cc: [a@example.org]", "distribution", "a@example.org is listed twice"),
        ("      attach: [docx]", "distribution.attach[0]", "expected one of the audience's formats (pdf, md)"),
        ("      send: sometimes", "distribution.send", "every-edition"),
    ],
)
def test_a_bad_distribution_is_an_input_error_with_its_line(
    mini_data: Path, run_cli: RunCli, line: str, key: str, message: str
) -> None:
    key_name = line.split(":")[0]
    lines = [line if ln.startswith(key_name + ":") else ln for ln in AUDIENCE.splitlines()]
    if not any(ln == line for ln in lines):
        lines.append(line)
    tpl = audience(mini_data.parent, text="\n".join(lines) + "\n")
    code, _, err = run_cli("check", "--data", mini_data, "--templates", tpl, "--audience", "mail")
    assert code == 2
    first = err.splitlines()[0]
    assert first.startswith(f"error: {tpl / 'audiences/mail.yaml'}:") and f" {key}: " in first, err
    assert message in first, err


def test_dry_run_writes_eml_files_and_sends_nothing(site: Site, smtp: tuple[Handler, int], run_cli: RunCli) -> None:
    handler, _ = smtp
    site.build(run_cli)
    outbox = site.out.parent / "outbox"
    code, out, _ = run_cli("send", *site.where, "--dry-run", "--outbox", outbox)  # no SMTP server needed
    assert code == 0
    assert "send: 3 written" in out
    assert handler.messages == []
    assert not (site.out / ".briefs/deliveries.json").exists()
    files = sorted(p.name for p in outbox.iterdir())
    assert files == [f"mini.mail.0001.{r}.eml" for r in RECIPIENTS]
    msg = email.message_from_bytes((outbox / files[0]).read_bytes(), policy=email.policy.default)
    assert msg["Subject"] == "Mini brief on Testland, edition 1 of June 30, 2022"
    assert site.send(run_cli)[0] == 0
    assert len(handler.messages) == 3


def test_smtp_settings_come_from_options_then_environment_and_the_password_is_never_shown(
    site: Site, smtp: tuple[Handler, int], run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port = smtp
    site.build(run_cli)
    monkeypatch.setenv("BRIEFS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BRIEFS_SMTP_PORT", str(port))
    monkeypatch.setenv("BRIEFS_SMTP_TLS", "none")
    monkeypatch.setenv("BRIEFS_SMTP_FROM", "briefs@example.net")
    monkeypatch.setenv("BRIEFS_SMTP_PASSWORD", "s3cret-never-shown")
    settings = mail.SmtpSettings.from_options(user="analyst")
    assert "s3cret" not in repr(settings) and "s3cret" not in settings.describe()
    code, out, err = run_cli("send", *site.where, "--debug")
    assert code == 0, err
    assert "s3cret" not in out + err
    _, msg = handler.parsed()[0]
    assert msg["From"] == "briefs@example.net"
    assert msg["Message-ID"].endswith("@example.net>")
    # A user without TLS to a remote host is refused before anything is sent.
    monkeypatch.setenv("BRIEFS_SMTP_HOST", "mail.example.org")
    code, _, err = run_cli("send", *site.where, "--smtp-user", "analyst")
    assert code == 2 and "refusing to log in without TLS" in err
    code, _, err = run_cli("send", *site.where, "--smtp-tls", "tls")
    assert code == 2 and "--smtp-tls" in err


def test_a_missing_attachment_fails_its_brief(site: Site, smtp: tuple[Handler, int], run_cli: RunCli) -> None:
    handler, _ = smtp
    site.build(run_cli)
    (site.out / "mini/mail.md").unlink()
    code, _, err = site.send(run_cli)
    assert code == 1
    assert "FAILED mini/mail edition 1: " in err and "mail.md: not built, cannot attach it" in err
    assert handler.messages == []


def test_no_edition_yet_sends_nothing(site: Site, smtp: tuple[Handler, int], run_cli: RunCli) -> None:
    code, out, _ = site.send(run_cli)
    assert code == 0
    assert "skipped mini/mail: no edition built yet" in out
    assert smtp[0].messages == []


def test_schedule_send_mails_after_a_tick(site: Site, smtp: tuple[Handler, int]) -> None:
    handler, _ = smtp
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFS_SMTP_")}
    proc = subprocess.Popen(
        [sys.executable, "build.py", "schedule", "--every", "1h", *site.where, "--format", "md", "--send", *site.smtp],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while len(handler.messages) < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == RECIPIENTS
    assert b"send: 3 sent" in err


def test_docs_example(tmp_path: Path) -> None:
    """The contract's example block, as the issue gives it, is a valid distribution."""
    from briefs.data.model import Distribution
    from briefs.data.yamlfile import read_yaml

    path = tmp_path / "d.yaml"
    path.write_text(
        textwrap.dedent("""\
        to: [desk-officer@example.org]
        cc: []
        attach: [pdf]          # any of the formats built
        send: every-edition    # or: when-changed
        """)
    )
    doc, problems = read_yaml(path)
    assert doc is not None and not problems
    assert Distribution.model_validate(doc.value).send == "every-edition"


def test_compose_keeps_any_subject_on_one_header_line() -> None:
    """Straight through `compose`: a subject with line breaks, a long one, one with non-ASCII text."""
    subjects = [
        "Brief\r\nBcc: evil@example.com\r\n\r\nbody",
        "How Russia's invasion of Ukraine affected Kazakh politics — Analytic Memo, edition 1 of June 30, 2022",
        "Казахстан " * 60,
    ]
    for subject in subjects:
        letter = mail.Letter("mini", "mail", 1, "h", subject, ("a@example.org",), (), "text\n", "<p>x</p>\n")
        raw = mail.compose(
            letter, "briefs@example.net", "Wed, 02 Dec 2026 07:00:00 +0000", "<x@example.net>"
        ).as_bytes()
        headers = raw.split(b"\r\n\r\n")[0].split(b"\r\n")
        assert [h.split(b":")[0] for h in headers if not h.startswith((b" ", b"\t"))][:8] == [
            b"From",
            b"To",
            b"Subject",
            b"Date",
            b"Message-ID",
            b"Auto-Submitted",
            b"X-Briefs-Edition",
            b"MIME-Version",
        ]
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert parsed["Bcc"] is None
        got = str(parsed["Subject"])
        assert got == mail.one_line(subject)[: mail.SUBJECT_MAX - 1].rstrip() + "…" or got == mail.one_line(subject)
        assert "  " not in got and len(got) <= mail.SUBJECT_MAX


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a test certificate")
def test_starttls_verifies_the_certificate_and_logs_in(
    site: Site, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
            *("-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Handler()
    logins: list[bytes] = []

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"analyst", b"s3cret-never-shown")
        if ok:
            logins.append(data.login)
        return AuthResult(success=ok, handled=False)  # handled defaults to True: no reply at all

    site.build(run_cli)
    options = {"tls_context": context, "require_starttls": True, "authenticator": authenticate, "auth_required": True}
    with serve(handler, **options) as port:
        args = ["send", *site.where, "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--smtp-user", "analyst"]
        monkeypatch.setenv("BRIEFS_SMTP_PASSWORD", "s3cret-never-shown")
        # The certificate is self-signed: not trusted, nothing sent, the run stops at the first message.
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        code, out, err = run_cli(*args)
        assert code == 1 and "the server's certificate is not trusted" in err, err
        assert handler.messages == []
        # Trusted (SSL_CERT_FILE is OpenSSL's own variable), but a wrong password: refused, never shown.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        monkeypatch.setenv("BRIEFS_SMTP_PASSWORD", "wrong-password")
        code, out, err = run_cli(*args, "--debug")
        assert code == 1 and "login refused: 535" in err, err
        assert "wrong-password" not in out + err
        monkeypatch.setenv("BRIEFS_SMTP_PASSWORD", "s3cret-never-shown")
        code, out, err = run_cli(*args, "--debug")
        assert code == 0, err
        assert "s3cret" not in out + err + (site.out / ".briefs/deliveries.json").read_text()
    assert logins == [b"analyst"]  # one connection for all three messages
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == RECIPIENTS


def test_only_the_briefs_own_outputs_are_attached(site: Site, smtp: tuple[Handler, int], run_cli: RunCli) -> None:
    """A link where the output was (or a linked dataset folder) is refused, never followed."""
    handler, _ = smtp
    site.build(run_cli)
    secret = site.out.parent / "secret.txt"
    secret.write_text("not for mail")
    output = site.out / "mini/mail.md"
    output.unlink()
    output.symlink_to(secret)
    code, _, err = site.send(run_cli)
    assert code == 1 and "mail.md: not built, cannot attach it" in err
    output.unlink()
    output.write_text("# a brief outside the output folder\n")
    (site.out / "mini").rename(site.out.parent / "elsewhere")
    (site.out / "mini").symlink_to(site.out.parent / "elsewhere")
    code, _, err = site.send(run_cli)
    assert code == 1 and "leads out of the output folder; not attached" in err, err
    assert handler.messages == []


class RefusingServer:
    """A raw-socket SMTP server that offers a login and refuses it (535), then hangs up or goes silent.

    aiosmtpd always answers politely; a real server that locks accounts may drop the connection after a
    refusal, or stall. Counts every AUTH it is sent: each one is a wrong password tried against the account.
    """

    def __init__(self, after: str) -> None:
        self.after = after  # after the refusal: "close", or "stall"; "silent": no reply to AUTH at all
        self.auths = 0
        self.connections = 0
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RefusingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.sock.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines:
            conn.sendall(b"220 lockout.example ESMTP\r\n")
            for line in lines:
                verb = line.split(b" ", 1)[0].strip().upper()
                if verb in (b"EHLO", b"HELO"):
                    conn.sendall(b"250-lockout.example\r\n250 AUTH PLAIN LOGIN\r\n")
                elif verb == b"AUTH":
                    self.auths += 1
                    if self.after != "silent":
                        conn.sendall(b"535 5.7.8 Authentication credentials invalid\r\n")
                    if self.after in ("stall", "silent"):
                        self.stop.wait(30)
                    return  # hang up
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"503 5.5.1 Log in first\r\n")


@pytest.mark.parametrize("after", ["close", "stall", "silent"])
def test_a_refused_login_stops_the_run_at_once(
    mini_data: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, after: str
) -> None:
    site = Site(mini_data, audience(mini_data.parent), 0)
    assert site.build(run_cli)[0] == 0
    monkeypatch.setattr(mail, "RETRY_DELAYS", (0.05, 0.1, 0.2))
    monkeypatch.setattr(mail, "SMTP_TIMEOUT", 2.0)
    monkeypatch.setenv("BRIEFS_SMTP_PASSWORD", "wrong-password")
    with RefusingServer(after) as server:
        smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(server.port), "--smtp-tls", "none"]
        started = time.monotonic()
        code, out, err = run_cli("send", *site.where, *smtp, "--smtp-user", "analyst")
        assert time.monotonic() - started < 20
    assert code == 1, err
    assert server.auths == 1 and server.connections == 1  # one wrong password, not one per recipient and retry
    said = "login failed (SMTPServerDisconnected: Connection unexpectedly closed: timed out)"
    said = said if after == "silent" else "login refused: 535"
    assert said in err and "stopped, not tried again" in err, err
    assert "wrong-password" not in out + err
    assert {e["state"] for e in site.log()} == {"failed"}  # the next run tries again, once


# --- a build and a send on one output folder (issue 25) --------------------------------------------------------


def test_a_builds_sweep_never_takes_a_live_senders_temporary_file(
    site: Site, smtp: tuple[Handler, int], run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between send's write of its log and the rename into place, a build sweeps the folder (it holds
    another lock): the sweep used to delete the temporary file, send crashed, and the log said
    "sending", so the next send mailed everyone again."""
    import os as real_os

    from briefs.pipeline import output

    handler, _ = smtp
    assert site.build(run_cli)[0] == 0
    real_fsync = real_os.fsync

    def fsync_after_a_sweep(fd: int) -> None:
        output.clean_temporaries(site.out)  # what `build` does first, while this send writes
        real_fsync(fd)

    monkeypatch.setattr(output.os, "fsync", fsync_after_a_sweep)
    code, stdout, stderr = site.send(run_cli)
    monkeypatch.setattr(output.os, "fsync", real_fsync)
    assert code == 0, stderr
    assert "3 sent" in stdout and len(handler.messages) == 3
    assert {e["state"] for e in site.log()} == {"sent"}
    code, stdout, _ = site.send(run_cli)
    assert code == 0 and "0 sent, 3 already sent" in stdout and len(handler.messages) == 3


def test_a_dead_writers_temporary_file_is_swept(tmp_path: Path) -> None:
    import subprocess
    import sys

    from briefs.pipeline import output

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(done.stdout)
    folder = tmp_path / "out" / ".briefs"
    folder.mkdir(parents=True)
    orphan = folder / f".state.json.{dead}.k2j3.tmp"
    mine = folder / f".state.json.{os.getpid()}.a8x1.tmp"
    for path in (orphan, mine):
        path.write_text("{}")
    output.clean_temporaries(tmp_path / "out")
    assert not orphan.exists() and mine.exists()


def test_send_refuses_a_symlinked_briefs_folder(site: Site, smtp: tuple[Handler, int], run_cli: RunCli) -> None:
    handler, _ = smtp
    assert site.build(run_cli)[0] == 0
    elsewhere = site.out.parent / "elsewhere"
    (site.out / ".briefs").rename(elsewhere)
    (site.out / ".briefs").symlink_to(elsewhere)
    code, _, stderr = site.send(run_cli)
    assert code == 1, stderr
    assert "symlinks lead out of the output folder" in stderr and "nothing sent" in stderr
    assert handler.messages == []
