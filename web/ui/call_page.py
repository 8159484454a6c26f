"""The call page: play a call with its transcript in sync, verify it, comment on moments, export evidence, and
nominate it (or a span of it) for trainers."""

from __future__ import annotations

import math
import tempfile
import threading

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import format_decimal, gettext

from recordings_service import playback
from recordings_service.calls import evidence, review, waveform
from recordings_service.errors import Conflict, DomainError, Forbidden, Invalid
from recordings_service.models.training import NominationKind
from recordings_service.permissions import Permission
from recordings_service.recordings import get_playable_recording
from recordings_service.storage.spool import spool_dir
from recordings_service.training import nominations
from recordings_service.training.eligibility import exclusions_of, require_trainer_may_use
from web.access import current_actor, current_can, requires
from web.api.recordings import playback_url
from web.database import commits_work, db, runtime
from web.errors import abandon_refused
from web.i18n import organisation_zone
from web.identities import request_agent_names, training_rules
from web.same_site import refuse_cross_site
from web.ui.error_messages import flash_error
from web.ui.evaluation_panel import evaluation_panel
from web.ui.numbers import typed_seconds, whole_number
from web.ui.refused_form import RefusedForm, refused_form

bp = Blueprint("call_page", __name__, url_prefix="/calls")
# Peaks not cached yet (the jobs process caches them after transcription) computed at once per web worker: one
# thread of its four, however many people open long calls; the others are told to ask again shortly (503).
PEAKS_SLOTS = threading.BoundedSemaphore(1)


@bp.get("/<recording_id>")
@requires(Permission.RECORDING_PLAY_REDACTED)
def call(recording_id: str) -> str:
    """`?t=<seconds>` opens the call at that moment (search results link to where a word was said).

    Whoever may hear only redacted material gets the redacted transcript and audio.
    """
    start = request.args.get("t", type=float)
    return _call_page(recording_id, start=start if start is not None and math.isfinite(start) else 0.0)


def _call_page(recording_id: str, *, start: float, refused: RefusedForm | None = None) -> str:
    """The page; with `refused`, a form sent back as it was typed with the reason it was refused beside it."""
    require_trainer_may_use(db(), actor=current_actor(), recording_id=recording_id, rules=training_rules())
    found = review.open_call(
        db(),
        actor=current_actor(),
        recording_id=recording_id,
        with_transcript=current_can(Permission.TRANSCRIPT_READ_REDACTED),
        redacted=not current_can(Permission.TRANSCRIPT_READ),
    )
    recording = found.recording
    nominated = []
    if current_can(Permission.NOMINATIONS_READ):
        nominated = nominations.list_nominations(
            db(), actor=current_actor(), recording_id=recording.id, limit=50, training_rules=training_rules()
        )
    exclusion = None
    if current_can(Permission.TRAINING_NOMINATE):
        exclusion = exclusions_of(db(), [recording.id], rules=training_rules())[recording.id]
    redacted_audio = not current_can(Permission.RECORDING_PLAY)
    # No player that cannot play: the page says why instead (the audio gone from storage, or the redacted audio
    # not yet made, as it is muted along the redacted transcript).
    playable = not found.audio_missing and (found.redacted_audio_ready or not redacted_audio)
    audio_url = None
    if playable and redacted_audio:
        audio_url = url_for("recordings_api.redacted_recording_audio", recording_id=recording.id)
    elif playable:
        ticket = playback.issue_ticket(
            db(), actor=current_actor(), recording_id=recording.id, secret_key=runtime().settings.secret_key
        )
        audio_url = playback_url(ticket, recording.id)
    panel = evaluation_panel(recording.id)
    db().commit()
    return render_template(
        "call_page/call.html",
        review=found,
        recording=recording,
        # Whoever may not know which agent took the call sees the pseudonym trainers see.
        agent=recording.agent_ref if current_can(Permission.AGENT_READ) else request_agent_names()(recording.agent_ref),
        start_at=min(max(start, 0.0), recording.duration_s),
        redacted_audio=redacted_audio,
        audio_url=audio_url,
        low_confidence=review.LOW_CONFIDENCE,
        nominations=nominated,
        exclusion=exclusion.value if exclusion is not None else None,
        kinds=[kind.value for kind in NominationKind],
        evaluation_panel=panel,
        lanes=waveform.lanes_of(recording),
        silence_min_s=waveform.SILENCE_MIN_S,
        refused=refused,
    )


def _refused(form: str, recording_id: str, exc: DomainError, status: int) -> tuple[str, int]:
    """The call page again with what was typed kept, instead of an error page (or a redirect) that drops it."""
    refused = refused_form(form, exc)
    at = typed_seconds(refused.values.get("at_s") or refused.values.get("start_s"))
    return _call_page(recording_id, start=at or 0.0, refused=refused), status


@bp.get("/<recording_id>/peaks.json")
@requires(Permission.RECORDING_PLAY)
def peaks(recording_id: str) -> Response:
    refuse_cross_site(object_type="recording", object_id=recording_id)
    rt = runtime()
    data = waveform.recording_peaks(
        db(),
        rt.store,
        rt.envelope,
        actor=current_actor(),
        recording_id=recording_id,
        cache=commits_work(),  # a HEAD keeps nothing, so it stores nothing
        slots=PEAKS_SLOTS,
    )
    db().commit()  # the version of peaks computed now, for the retention sweep
    return jsonify(data)


@bp.post("/<recording_id>/verify")
@requires(Permission.TRANSCRIPT_VERIFY)
def verify(recording_id: str) -> Response:
    raw = request.form.get("segment", "")
    segment = whole_number(raw)
    if raw and segment is None:
        raise Invalid("segment", gettext("not a segment number"))
    review.verify_transcript(db(), actor=current_actor(), recording_id=recording_id, segment_index=segment)
    db().commit()
    flash(gettext("Segment verified against the audio.") if raw else gettext("Transcript verified against the audio."))
    anchor = f"seg-{segment}" if segment is not None else "transcript"
    return redirect(url_for("call_page.call", recording_id=recording_id, _anchor=anchor))


@bp.post("/<recording_id>/annotations")
@requires(Permission.ANNOTATION_WRITE)
def annotate(recording_id: str) -> Response | tuple[str, int]:
    # The call first: one hidden from the actor is not found (and the refusal audited), whatever the form says.
    recording = get_playable_recording(db(), actor=current_actor(), recording_id=recording_id, audio=False)
    try:
        at_s = _seconds(request.form.get("at_s", ""), "at_s")
        if at_s is None:
            raise Invalid("at_s", gettext("give the moment in seconds from the start of the call"))
        note = review.add_annotation(
            db(), actor=current_actor(), recording_id=recording_id, at_s=at_s, text=request.form.get("text", "")
        )
    except Invalid as exc:
        return _refused("comment", recording_id, _comment_refusal(exc, recording.duration_s), 422)
    db().commit()
    flash(gettext("Comment added."), "comment")  # shown, and focused, beside the comments
    # The confirmation is the fragment: the browser scrolls to it and focuses it (call.html, call_page.js).
    return redirect(url_for("call_page.call", recording_id=recording_id, t=note.at_s, _anchor="comment-added"))


@bp.post("/<recording_id>/evidence")
@requires(Permission.EVIDENCE_EXPORT)
def export_evidence(recording_id: str) -> Response:
    """The evidence ZIP, built in an unnamed temporary file (gone once closed) and streamed from it."""
    rt = runtime()
    work_dir = spool_dir(rt.settings)
    package = tempfile.TemporaryFile(dir=work_dir)  # noqa: SIM115 — the response closes it once sent
    try:
        made = evidence.export_evidence(
            db(),
            rt.store,
            rt.envelope,
            actor=current_actor(),
            recording_id=recording_id,
            destination=package,
            work_dir=work_dir,
            zone=organisation_zone(),
        )
        db().commit()
    except BaseException:
        package.close()
        raise
    package.seek(0)
    response = send_file(package, mimetype="application/zip", as_attachment=True, download_name=made.filename)
    return response


@bp.post("/<recording_id>/nominations")
@requires(Permission.TRAINING_NOMINATE)
def nominate(recording_id: str) -> Response | tuple[str, int]:
    """Mark the call, or a span of it, as a good example or one needing improvement, for trainers."""
    form = request.form
    # The call first: one hidden from the actor is not found (and the refusal audited), whatever the form says.
    get_playable_recording(db(), actor=current_actor(), recording_id=recording_id, audio=False)
    try:
        nominations.nominate(
            db(),
            actor=current_actor(),
            recording_id=recording_id,
            kind=_kind(form.get("kind", "")),
            note=form.get("note", ""),
            start_s=_seconds(form.get("start_s", ""), "start_s"),
            end_s=_seconds(form.get("end_s", ""), "end_s"),
            rules=training_rules(),
            customer_number_pattern=runtime().settings.customer_number_rule,
        )
    except (Invalid, Conflict) as exc:
        return _refused("nomination", recording_id, exc, 422 if isinstance(exc, Invalid) else 409)
    db().commit()
    flash(gettext("Nominated for trainers."))
    return redirect(url_for("call_page.call", recording_id=recording_id, _anchor="nominations"))


@bp.post("/<recording_id>/nominations/withdraw")
@requires(Permission.TRAINING_NOMINATE)
def withdraw_nomination(recording_id: str) -> Response:
    """Withdraw one's own nomination (`nomination_id`); another's is refused (and the refusal audited)."""
    get_playable_recording(db(), actor=current_actor(), recording_id=recording_id, audio=False)
    try:
        nominations.withdraw_nomination(
            db(), actor=current_actor(), nomination_id=request.form.get("nomination_id", "")
        )
    except Conflict as exc:
        db().rollback()
        flash_error(exc)
    except Forbidden as exc:
        abandon_refused(exc)
        flash_error(exc)
    else:
        db().commit()
        flash(gettext("Nomination withdrawn."))
    return redirect(url_for("call_page.call", recording_id=recording_id, _anchor="nominations"))


def _comment_refusal(exc: Invalid, duration_s: float) -> Invalid:
    """A comment's refusal in the reader's language (the core says it in English)."""
    if exc.field == "at_s" and exc.code == "out_of_range":
        seconds = format_decimal(round(duration_s, 1), format="0.0")
        message = gettext("enter a moment of the call, 0 to %(duration)s seconds", duration=seconds)
    elif exc.field == "text" and exc.code == "invalid_length":
        message = gettext("1 to %(num)d characters", num=review.MAX_ANNOTATION_CHARS)
    else:
        return exc
    return Invalid(exc.field, message, code=exc.code)


def _kind(raw: str) -> NominationKind:
    try:
        return NominationKind(raw)
    except ValueError:
        raise Invalid("kind", gettext("choose good example or needs improvement")) from None


def _seconds(raw: str, name: str) -> float | None:
    """Seconds from the start of the call as typed (a decimal comma too); None when left empty."""
    if not raw.strip():
        return None
    seconds = typed_seconds(raw)
    if seconds is None:
        raise Invalid(name, gettext("give the time in seconds from the start of the call"))
    return seconds
