"""Distribution: which editions go to whom, and the `send` command that mails them (issue 16).

For each brief (dataset × audience) whose audience file has a ``distribution:``, the current edition is
the latest one the build recorded. Each of its recipients gets one message, unless the delivery log
says it was sent. The rule that makes a crash harmless: record ``sending`` → hand the message to the
server → record ``sent``. A process killed between the last two steps leaves ``sending``; the next run
sends that message again, byte for byte, with the same Message-ID — at least once on the wire, once in
the reader's mailbox wherever Message-IDs are deduplicated (docs/scheduling.md says which).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from briefs.compose.changes import Changes, Edition, diff, plain
from briefs.data.audiences import goes_with
from briefs.data.load import LoadedAudience, LoadedDataset
from briefs.deliver.deliveries import Delivery, DeliveryLog, Key, delivery_key, send_lock
from briefs.deliver.mail import (
    Attachment,
    Letter,
    LetterError,
    Mailer,
    PermanentSendError,
    SmtpSettings,
    TemporarySendError,
    letter_html,
    letter_text,
    message_id,
    now_date,
    one_line,
    render,
)
from briefs.errors import BuildError, display_path
from briefs.formats.render import format_date, prose_html
from briefs.pipeline.editions import editions_folder, history, read_edition
from briefs.pipeline.output import output_lock, refuse_links_out_of, write_atomic

if TYPE_CHECKING:
    from briefs.pipeline.build import Options, Plan

log = logging.getLogger(__name__)

OUTBOX = ".briefs/outbox"


@dataclass(frozen=True)
class SendResult:
    """What happened to one message (or to one brief, when nothing could be sent for it)."""

    brief: str  # dataset/audience edition N
    recipient: str | None
    status: str  # sent | already-sent | skipped | written | failed
    detail: str | None = None
    path: Path | None = None  # the .eml file of a dry run

    def line(self) -> str:
        """One line for the terminal or a log."""
        to = f" to {self.recipient}" if self.recipient else ""
        if self.status == "failed":
            return f"FAILED {self.brief}{to}: {self.detail}"
        if self.status == "written":
            return f"wrote {display_path(self.path or '')} ({self.brief}{to})"
        if self.status == "skipped":
            return f"skipped {self.brief}{to}: {self.detail}"
        return f"{self.status.replace('-', ' ')} {self.brief}{to}"


@dataclass
class SendReport:
    """The outcome of one send."""

    results: list[SendResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[SendResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> str:
        """'send: 2 sent, 4 already sent, 1 skipped, 0 failed (0.3 s)'."""
        parts = [f"{self.count('written')} written"] if self.count("written") else [f"{self.count('sent')} sent"]
        parts += [f"{self.count('already-sent')} already sent", f"{self.count('skipped')} skipped"]
        parts.append(f"{len(self.failed)} failed")
        return f"send: {', '.join(parts)} ({self.seconds:.1f} s)"


@dataclass(frozen=True)
class Pending:
    """A letter and the recipients still to receive it."""

    letter: Letter
    recipients: tuple[str, ...]


def _editions(out_dir: Path, dataset: str, audience: str) -> dict[int, Edition]:
    found = {}
    for number, path in history(editions_folder(out_dir, dataset, audience)):
        edition = read_edition(path)
        if edition is not None:
            found[number] = edition
    return found


def _material(current: Edition, editions: dict[int, Edition], sent: set[int]) -> bool:
    """Has anything changed since the last edition that reached this reader (or did none ever)?

    ``sent``: the editions this one recipient has received. Kept per recipient (issue 25): a reader whose
    delivery failed is measured against what they last received, so the next edition goes to them
    even when nothing changed since the one the others got.
    """
    if current.number in sent:
        return True  # they have it already: the delivery log says so, this does not skip it
    earlier = [n for n in sent if n < current.number]
    if not earlier or max(earlier) not in editions:
        return True
    return bool(diff(editions[max(earlier)].records, current.records))


def _record_text(edition: Edition, kind: str) -> str | None:
    value = edition.records.get(kind, {}).get(kind, {}).get("text")
    return str(value) if value else None


def make_letter(
    out_dir: Path, loaded: LoadedDataset, audience: LoadedAudience, current: Edition, previous: Edition | None
) -> Letter:
    """The mail for one edition of one brief; raises BuildError when an attachment is not built."""
    ds, aud = loaded.dataset, audience.audience
    assert aud.distribution is not None
    dist = aud.distribution
    info = ds.info
    kind = "bluf" if any(s.id == "bluf" for s in aud.sections) else "summary"
    bluf = _record_text(current, kind) or str(getattr(info, kind))
    items = [c.text for c in diff(previous.records, current.records)] if previous is not None else []
    changes_title = (  # as the brief names its previous edition: "What changed since edition 2 (built …)"
        Changes(previous.date, [], previous.number, previous.built).title if previous is not None else None
    )
    edition_line = f"{aud.title}, {current.label}"
    marking = one_line(aud.marking or "")
    subject = dist.subject.format(
        title=one_line(info.title),
        subject=one_line(info.subject),
        audience=one_line(aud.title),
        dataset=ds.id,
        edition=current.number,
        date=format_date(current.date),
    )
    attachments = []
    for fmt in dist.attach:
        path = out_dir / ds.id / f"{aud.id}.{fmt}"
        # Only the brief's own output, a regular file inside the output folder: never a link out of it.
        if path.is_symlink() or not path.is_file():
            raise BuildError(f"{display_path(path)}: not built, cannot attach it (build with --format {fmt})")
        if not path.resolve().is_relative_to(out_dir.resolve()):
            raise BuildError(f"{display_path(path)}: leads out of the output folder; not attached")
        attachments.append(Attachment(f"{ds.id}-{aud.id}.{fmt}", fmt, path.read_bytes()))
    if attachments:
        names = ", ".join(a.filename for a in attachments)
        edition_line += f" (attached: {names})"
    return Letter(
        dataset=ds.id,
        audience=aud.id,
        edition=current.number,
        edition_hash=current.input_hash,
        subject=one_line(subject),
        to=tuple(dist.to),
        cc=tuple(dist.cc),
        text=letter_text(one_line(info.title), [edition_line], plain(bluf), changes_title, items, marking),
        html=letter_html(one_line(info.title), [edition_line], str(prose_html(bluf)), changes_title, items, marking),
        attachments=tuple(attachments),
    )


def prepare(plan: Plan, deliveries: DeliveryLog, sender: str) -> tuple[list[Pending], list[SendResult]]:
    """Every brief's letter and who still needs it; the briefs skipped or failing, said why."""
    out_dir = plan.options.out_dir
    pending: list[Pending] = []
    results: list[SendResult] = []
    # Outputs built before and out of date since (a format never built is no sign the edition is old).
    stale = {(p.target.dataset, p.target.audience) for p in plan.targets if p.stale and p.target.path.exists()}
    for ds_id, loaded in plan.datasets.items():
        for aud_id, audience in plan.audiences.items():
            dist = audience.audience.distribution
            if dist is None or not goes_with(loaded, audience):
                continue  # no list, or not a brief anyone builds (`datasets:` / `info.audiences`)
            brief = f"{ds_id}/{aud_id}"
            editions = _editions(out_dir, ds_id, aud_id)
            if not editions:
                why = "no edition built yet (build first, or build --send)"
                results.append(SendResult(brief, None, "skipped", why))
                continue
            current = editions[max(editions)]
            brief = f"{brief} edition {current.number}"
            if (ds_id, aud_id) in stale:
                log.warning("%s: outputs are stale; sending the last built edition (build --send builds first)", brief)
            unchanged: set[str] = set()  # recipients for whom nothing material changed since their last edition
            if dist.send == "when-changed":
                for recipient in (*dist.to, *dist.cc):
                    if not _material(current, editions, deliveries.sent_editions(ds_id, aud_id, recipient)):
                        unchanged.add(recipient.lower())
                if len(unchanged) == len({r.lower() for r in (*dist.to, *dist.cc)}):
                    results.append(SendResult(brief, None, "skipped", "nothing material changed (send: when-changed)"))
                    continue
            earlier = [n for n in editions if n < current.number]
            previous = editions[max(earlier)] if earlier else None
            try:
                letter = make_letter(out_dir, loaded, audience, current, previous)
            except BuildError as exc:
                results.append(SendResult(brief, None, "failed", str(exc)))
                continue
            try:  # a message that cannot be written safely fails this brief, before any is sent
                render(letter, sender, now_date(), message_id(ds_id, aud_id, 0, "", letter.recipients[0], sender))
            except LetterError as exc:
                results.append(SendResult(brief, None, "failed", str(exc)))
                continue
            todo = []
            for recipient in letter.recipients:
                entry = deliveries.get(_key(letter, recipient))
                if recipient.lower() in unchanged:
                    why = "nothing material changed since the edition they last received (send: when-changed)"
                    results.append(SendResult(brief, recipient, "skipped", why))
                elif entry is not None and entry.state == "sent":
                    results.append(SendResult(brief, recipient, "already-sent"))
                else:
                    todo.append(recipient)
            if todo:
                pending.append(Pending(letter, tuple(todo)))
    return pending, results


def _key(letter: Letter, recipient: str) -> Key:
    return delivery_key(letter.dataset, letter.audience, letter.edition, letter.edition_hash, recipient)


def _entry(deliveries: DeliveryLog, letter: Letter, recipient: str, sender: str) -> Delivery:
    """The logged delivery, or a new one with a fresh Message-ID and Date (not yet recorded)."""
    entry = deliveries.get(_key(letter, recipient))
    if entry is not None:
        return entry
    mid = message_id(letter.dataset, letter.audience, letter.edition, letter.edition_hash, recipient, sender)
    return Delivery(letter.dataset, letter.audience, letter.edition, recipient, mid, now_date(), letter.edition_hash)


def _eml_name(letter: Letter, recipient: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9@._+-]", "_", recipient)
    return f"{letter.dataset}.{letter.audience}.{letter.edition:04d}.{safe}.eml"


def send(
    options: Options,
    settings: SmtpSettings,
    outbox: Path | None = None,
    lock_wait: float | None = None,
    progress: Callable[[SendResult], None] | None = None,
) -> SendReport:
    """Mail each brief's current edition to each recipient who has not had it; with ``outbox``, write .eml files."""
    from briefs.pipeline.build import make_plan

    started = time.perf_counter()
    plan = make_plan(options)  # every input validated first: bad input sends nothing (exit 2)
    if outbox is None:
        settings.check()
    report = SendReport()

    def done(result: SendResult) -> None:
        report.results.append(result)
        if progress is not None:
            progress(result)

    out_dir = options.out_dir
    refuse_links_out_of(out_dir, "send")  # the delivery log and its lock live under out/.briefs
    with send_lock(out_dir, lock_wait):
        deliveries = DeliveryLog(out_dir)
        with output_lock(out_dir, lock_wait):  # no build writes editions or outputs while they are read
            pending, results = prepare(plan, deliveries, settings.sender)
        for result in results:
            done(result)
        if outbox is not None:
            for item in pending:
                for recipient in item.recipients:
                    entry = _entry(deliveries, item.letter, recipient, settings.sender)
                    try:
                        raw = render(item.letter, settings.sender, entry.date, entry.message_id)
                    except LetterError as exc:
                        done(SendResult(item.letter.name, recipient, "failed", str(exc)))
                        continue
                    path = outbox / _eml_name(item.letter, recipient)
                    write_atomic(path, raw)
                    done(SendResult(item.letter.name, recipient, "written", path=path))
        elif pending:
            log.debug("sending through %s", settings.describe())
            with Mailer(settings) as mailer:
                for item in pending:
                    for recipient in item.recipients:
                        done(_deliver(mailer, deliveries, item.letter, recipient, settings.sender))
    report.seconds = time.perf_counter() - started
    return report


def _deliver(mailer: Mailer, deliveries: DeliveryLog, letter: Letter, recipient: str, sender: str) -> SendResult:
    """Record the intent, send, record the outcome: the order that makes a crash harmless."""
    entry = _entry(deliveries, letter, recipient, sender)
    if entry.state == "sending" and entry.attempts:
        what = f"{letter.name} to {recipient}: an earlier send was interrupted; sending again as {entry.message_id}"
        log.warning("%s", what)
    try:
        raw = render(letter, sender, entry.date, entry.message_id)
    except LetterError as exc:  # nothing went out: this message fails, the others are sent
        return SendResult(letter.name, recipient, "failed", str(exc))
    entry = deliveries.record(entry, "sending")
    try:
        mailer.deliver(raw, recipient)
    except (TemporarySendError, PermanentSendError) as exc:
        deliveries.record(entry, "failed", str(exc))
        return SendResult(letter.name, recipient, "failed", str(exc))
    except BuildError as exc:  # the same for every message (login, certificate): stop, the log says why
        deliveries.record(entry, "failed", str(exc))
        raise
    try:
        deliveries.record(entry, "sent")
    except OSError as exc:  # it went out, but the log cannot say so: stop before sending more of the same kind
        raise BuildError(
            f"{display_path(deliveries.path)}: cannot record that {letter.name} reached {recipient} "
            f"({exc.strerror or exc}); stopped. The next send mails it again with the same Message-ID"
        ) from exc
    return SendResult(letter.name, recipient, "sent")
