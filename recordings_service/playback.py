"""Serving a recording's original audio: playback tickets for browser players, and the audit of every byte served.

A browser sends its session cookie with any request for the audio, including one a page embeds without the user
asking to play. So a browser plays only with a ticket: short-lived, bound to one recording and one user, and
audited when it is issued (the call page, or the API on the player's behalf). API tokens need no ticket, and
every response that carries audio bytes is audited with the range it serves, before its first byte goes out: a
worker killed while sending leaves its play on the trail. That may over-state what a client that went away took,
which an access trail may; a research batch's `downloads` counts completed packages instead, as custody needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Forbidden, Refusal
from recordings_service.models import AuditEvent, Recording
from recordings_service.recordings import get_playable_recording

TICKET_TTL = timedelta(minutes=10)
# A player fetches one listen as many ranges (and seeks): one event per recording, principal and minute keeps
# the trail readable while still placing every fetch within a minute of an event that shows its range.
PLAY_AUDIT_WINDOW = timedelta(minutes=1)
_TICKET_SALT = "callvault.playback-ticket"


@dataclass(frozen=True)
class Ticket:
    token: str
    expires_at: datetime


def issue_ticket(session: Session, *, actor: Actor, recording_id: str, secret_key: str) -> Ticket:
    """A ticket for `actor` to play one recording's original; audited as `recording.play_ticket_issued`."""
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id)
    expires_at = utcnow() + TICKET_TTL
    token = _serializer(secret_key).dumps([recording.id, actor.id])
    record_event(
        session,
        actor=actor,
        action="recording.play_ticket_issued",
        object_type="recording",
        object_id=recording.id,
        details={"expires_at": expires_at.isoformat()},
    )
    return Ticket(token=token, expires_at=expires_at)


def check_ticket(*, actor: Actor, recording_id: str, ticket: str | None, secret_key: str) -> None:
    """Refuse (audited) unless `ticket` was issued to `actor` for this recording less than TICKET_TTL ago."""
    reason = _ticket_fault(actor=actor, recording_id=recording_id, ticket=ticket, secret_key=secret_key)
    if reason is not None:
        refusal = Refusal(actor, "recording.access_denied", "recording", recording_id, {"reason": reason})
        message = "this audio request carries no valid playback ticket: play the call from its page"
        # Named as the field at fault, so a player or script can tell "ask for a new ticket" from "not permitted".
        raise Forbidden(message, refusal=refusal, field="ticket")


def _ticket_fault(*, actor: Actor, recording_id: str, ticket: str | None, secret_key: str) -> str | None:
    if not ticket:
        return "no_ticket"
    try:
        bound = _serializer(secret_key).loads(ticket, max_age=int(TICKET_TTL.total_seconds()))
    except SignatureExpired:
        return "ticket_expired"
    except BadSignature:
        return "ticket_invalid"
    return None if bound == [recording_id, actor.id] else "ticket_invalid"


def record_audio_served(
    session: Session, *, actor: Actor, recording: Recording, download: bool, start: int, stop: int
) -> None:
    """Audit bytes `start` to `stop` (exclusive) of the original leaving for `actor`: every download as
    `recording.downloaded`, plays as `recording.played` (see `record_served`)."""
    record_served(
        session,
        actor=actor,
        recording_id=recording.id,
        action="recording.downloaded" if download else "recording.played",
        start=start,
        stop=stop,
        size=recording.size_bytes,
        every_time=download,
    )


def record_served(
    session: Session,
    *,
    actor: Actor,
    recording_id: str,
    action: str,
    start: int,
    stop: int,
    size: int,
    every_time: bool = False,
    extra: Mapping[str, object] | None = None,
) -> None:
    """Audit bytes `start` to `stop` (exclusive) of a body of `size` bytes of a recording's audio leaving for
    `actor` as `action`, with `extra` in its details.

    Unless `every_time`, once per recording, principal, action, `extra` (one clip in one format) and minute (a
    player's many range requests are one listen), and again for a fetch carrying more bytes than any recorded in
    that minute, so the trail never understates what left (a one-byte probe followed by the whole file was recorded
    as one byte).
    """
    bytes_served = stop - start
    details = {"range_start": start, "range_end": stop - 1, "bytes": bytes_served, "size": size, **(extra or {})}
    if not every_time and bytes_served <= _most_served_within_window(
        session, actor=actor, recording_id=recording_id, action=action, same=extra or {}
    ):
        return
    record_event(session, actor=actor, action=action, object_type="recording", object_id=recording_id, details=details)


def record_viewed(session: Session, *, actor: Actor, recording_id: str, action: str) -> None:
    """Audit `action` (something derived from the recording's audio leaving for `actor`) once per recording,
    principal and minute: a page fetches it on every view."""
    if _most_served_within_window(session, actor=actor, recording_id=recording_id, action=action, same={}) < 0:
        record_event(session, actor=actor, action=action, object_type="recording", object_id=recording_id)


def _most_served_within_window(
    session: Session, *, actor: Actor, recording_id: str, action: str, same: Mapping[str, object]
) -> int:
    """The most bytes one recorded `action` of the window with the `same` details carried; -1 when none was."""
    recent = select(AuditEvent.details).where(
        AuditEvent.action == action,
        AuditEvent.object_type == "recording",
        AuditEvent.object_id == recording_id,
        AuditEvent.actor_id == actor.id,
        AuditEvent.occurred_at > utcnow() - PLAY_AUDIT_WINDOW,
    )
    alike = (
        details for details in session.scalars(recent) if all(details.get(key) == value for key, value in same.items())
    )
    return max((int(details.get("bytes", 0)) for details in alike), default=-1)


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_TICKET_SALT)
