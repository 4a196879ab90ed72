"""The delivery log: which edition of which brief was mailed to whom, and one sender at a time.

``<out>/.briefs/deliveries.json`` holds one entry per message, keyed by what it delivers: (dataset,
audience, edition number, edition hash, recipient). An entry is written as ``sending`` — with the
Message-ID and Date the message carries — before the message goes to the server, and as ``sent`` once
the server has accepted it; each write replaces the whole file atomically. A ``sending`` or ``failed``
entry is sent again on the next run with its recorded Message-ID and Date, so the copy is byte for byte
the first one, even if the sender address changed meanwhile (issue 16, docs/scheduling.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

from briefs.errors import BuildError, display_path
from briefs.files import read_record
from briefs.pipeline.output import folder_lock, write_atomic

log = logging.getLogger(__name__)

LOG_NAME = ".briefs/deliveries.json"
LOCK_NAME = ".briefs/send.lock"
State = Literal["sending", "sent", "failed"]
Key = tuple[str, str, int, str, str]


@dataclass(frozen=True)
class Delivery:
    """One message of one edition to one recipient, and how far it got."""

    dataset: str
    audience: str
    edition: int
    recipient: str
    message_id: str
    date: str  # the message's Date header, fixed at the first attempt
    edition_hash: str = ""
    state: State = "sending"
    attempts: int = 0
    updated: str = ""
    error: str | None = None

    @property
    def key(self) -> Key:
        """What the message delivers: one edition of one brief to one address."""
        return delivery_key(self.dataset, self.audience, self.edition, self.edition_hash, self.recipient)


def delivery_key(dataset: str, audience: str, edition: int, edition_hash: str, recipient: str) -> Key:
    """The log's key for a delivery (addresses compared without case)."""
    return (dataset, audience, edition, edition_hash, recipient.lower())


class DeliveryLog:
    """The log of one output folder, read once and rewritten atomically on every change."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LOG_NAME
        self.entries: dict[Key, Delivery] = {}
        if not self.path.exists():
            return
        try:
            data = json.loads(read_record(self.path))
            for item in data["deliveries"]:
                delivery = Delivery(**item)
                self.entries[delivery.key] = delivery
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Sending on without the log could mail every edition again: stop instead.
            raise BuildError(
                f"{display_path(self.path)}: unreadable delivery log ({exc}); nothing sent. "
                "Repair it, or move it away to send every current edition again"
            ) from exc

    def get(self, key: Key) -> Delivery | None:
        """The entry for a delivery, if it was ever attempted."""
        return self.entries.get(key)

    def sent_editions(self, dataset: str, audience: str, recipient: str | None = None) -> set[int]:
        """The editions of a brief that reached at least one recipient (or ``recipient``, without case)."""
        return {
            d.edition
            for d in self.entries.values()
            if d.dataset == dataset
            and d.audience == audience
            and d.state == "sent"
            and (recipient is None or d.recipient.lower() == recipient.lower())
        }

    def record(self, delivery: Delivery, state: State, error: str | None = None) -> Delivery:
        """Set a delivery's state and write the whole log to disk (atomically, fsynced) before returning."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        attempts = delivery.attempts + (1 if state == "sending" else 0)
        entry = replace(delivery, state=state, attempts=attempts, updated=now, error=error)
        self.entries[entry.key] = entry
        ordered = sorted(self.entries.values(), key=lambda d: (d.dataset, d.audience, d.edition, d.recipient))
        text = json.dumps({"deliveries": [asdict(d) for d in ordered]}, indent=1, ensure_ascii=False)
        write_atomic(self.path, text.encode("utf-8"))
        return entry


@contextlib.contextmanager
def send_lock(out_dir: Path, wait: float | None = None) -> Iterator[None]:
    """Hold the output folder's send lock: a second sender waits (or, with ``wait``, gives up after it)."""
    with folder_lock(out_dir, LOCK_NAME, "send", wait):
        yield
