"""The call page: play a call with its transcript in sync, verify it, comment on moments, export evidence."""

from __future__ import annotations

import math
import tempfile

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext

from recordings_service.calls import evidence, review, waveform
from recordings_service.errors import Invalid
from recordings_service.permissions import Permission
from recordings_service.storage.spool import spool_dir
from web.access import current_actor, current_can, requires
from web.database import db, runtime
from web.security_headers import mark_no_store, no_store

bp = Blueprint("call_page", __name__, url_prefix="/calls")


@bp.get("/<recording_id>")
@requires(Permission.RECORDING_PLAY_REDACTED)
@no_store
def call(recording_id: str) -> str:
    """`?t=<seconds>` opens the call at that moment (search results link to where a word was said).

    Whoever may hear only redacted material gets the redacted transcript and audio.
    """
    found = review.open_call(
        db(),
        actor=current_actor(),
        recording_id=recording_id,
        with_transcript=current_can(Permission.TRANSCRIPT_READ_REDACTED),
        redacted=not current_can(Permission.TRANSCRIPT_READ),
    )
    db().commit()
    start = request.args.get("t", type=float)
    if start is None or not math.isfinite(start):
        start = 0.0
    return render_template(
        "call_page/call.html",
        review=found,
        recording=found.recording,
        start_at=min(max(start, 0.0), found.recording.duration_s),
        redacted_audio=not current_can(Permission.RECORDING_PLAY),
        low_confidence=review.LOW_CONFIDENCE,
    )


@bp.get("/<recording_id>/peaks.json")
@requires(Permission.RECORDING_PLAY)
@no_store
def peaks(recording_id: str) -> Response:
    rt = runtime()
    data = waveform.recording_peaks(
        db(),
        rt.store,
        rt.envelope,
        actor=current_actor(),
        recording_id=recording_id,
        ffmpeg=rt.settings.ffmpeg_path(),
    )
    return jsonify(data)


@bp.post("/<recording_id>/verify")
@requires(Permission.TRANSCRIPT_VERIFY)
def verify(recording_id: str) -> Response:
    raw = request.form.get("segment", "")
    if raw and not raw.isdigit():
        raise Invalid("segment", "not a segment number")
    segment = int(raw) if raw else None
    review.verify_transcript(db(), actor=current_actor(), recording_id=recording_id, segment_index=segment)
    db().commit()
    flash(gettext("Segment verified against the audio.") if raw else gettext("Transcript verified against the audio."))
    anchor = f"seg-{segment}" if segment is not None else "transcript"
    return redirect(url_for("call_page.call", recording_id=recording_id, _anchor=anchor))


@bp.post("/<recording_id>/annotations")
@requires(Permission.ANNOTATION_WRITE)
def annotate(recording_id: str) -> Response:
    try:
        at_s = float(request.form.get("at_s", ""))
    except ValueError:
        raise Invalid("at_s", "give the moment in seconds") from None
    note = review.add_annotation(
        db(), actor=current_actor(), recording_id=recording_id, at_s=at_s, text=request.form.get("text", "")
    )
    db().commit()
    flash(gettext("Comment added."))
    return redirect(url_for("call_page.call", recording_id=recording_id, t=note.at_s, _anchor="comments"))


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
        )
        db().commit()
    except BaseException:
        package.close()
        raise
    package.seek(0)
    response = send_file(package, mimetype="application/zip", as_attachment=True, download_name=made.filename)
    return mark_no_store(response)
