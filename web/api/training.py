"""Training API: samples of calls, a trainer's view of a call, QA nominations, clips cut from redacted audio and
their playback. Trainers get redacted material only; sets and exports are in web/api/training_sets.py."""

from __future__ import annotations

from flask import Blueprint, Response, request
from spectree import Response as SpecResponse

from recordings_service.errors import Invalid
from recordings_service.models import TrainingClip
from recordings_service.permissions import Permission
from recordings_service.training import clip_views, clips, nominations, sampling
from recordings_service.training.call_view import view_call
from web.access import current_actor, requires
from web.api import api_spec
from web.api.file_answers import FileAnswer
from web.api.ranges import RangeHeaders, entity_tag, ranged_response, requested_span, serves_bytes
from web.api.training_shapes import (
    CLIP_MEDIA_TYPES,
    ClipAudioQuery,
    ClipIn,
    ClipOut,
    ClipPageOut,
    ClipPatch,
    ClipsQuery,
    NominationIn,
    NominationOut,
    NominationPageOut,
    NominationsQuery,
    SampleOut,
    TrainingCallOut,
    call_out,
    clip_out,
    nomination_out,
    sample_out,
)
from web.api.validation import ErrorBody, as_json, next_cursor, next_id_cursor, refuse_invalid
from web.database import db, runtime
from web.identities import training_rules as rules

bp = Blueprint("training_api", __name__, url_prefix="/api/v1/training")
TAGS = ["training"]


def no_content() -> Response:
    return Response(status=204)


@bp.post("/samples")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(resp=SpecResponse(HTTP_200=SampleOut, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid)
def pull_sample(json: sampling.SampleCriteria) -> tuple[Response, int]:
    """Pull sample calls: random or stratified (queue, agent or score band), reproducible with `seed`; the
    eligible count and the exclusions by reason come with it."""
    rt = runtime()
    sample = sampling.pull_sample(db(), rt.envelope, actor=current_actor(), criteria=json, rules=rules())
    db().commit()
    return as_json(sample_out(sample))


@bp.get("/calls/<recording_id>")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(resp=SpecResponse(HTTP_200=TrainingCallOut, HTTP_404=ErrorBody), tags=TAGS)
def training_call(recording_id: str) -> tuple[Response, int]:
    """A call as trainers work with it: redacted transcript (audited), agent pseudonym, score, nominations."""
    call = view_call(db(), runtime().envelope, actor=current_actor(), recording_id=recording_id, rules=rules())
    db().commit()
    return as_json(call_out(call, rules()))


# ---------------------------------------------------------------- nominations


@bp.post("/nominations")
@requires(Permission.TRAINING_NOMINATE)
@api_spec.validate(
    resp=SpecResponse(HTTP_201=NominationOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def nominate(json: NominationIn) -> tuple[Response, int]:
    """Mark a call, or a span of it, as a good example or one needing improvement (QA supervisors)."""
    actor = current_actor()
    nomination = nominations.nominate(
        db(),
        actor=actor,
        recording_id=json.recording_id,
        kind=json.kind,
        note=json.note,
        start_s=json.start_s,
        end_s=json.end_s,
        rules=rules(),
        customer_number_pattern=runtime().settings.customer_number_rule,
    )
    db().commit()
    return as_json(nomination_out(nominations.NominationRow(nomination, actor.name)), 201)


@bp.get("/nominations")
@requires(Permission.NOMINATIONS_READ)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=NominationPageOut, HTTP_404=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def list_nominations(query: NominationsQuery) -> tuple[Response, int]:
    """Nominations newest first, of one call or all, of one kind or both."""
    rows = nominations.list_nominations(
        db(),
        actor=current_actor(),
        recording_id=query.recording_id,
        kind=query.kind,
        cursor=query.cursor,
        limit=query.limit + 1,
        training_rules=rules(),
    )
    body = NominationPageOut(
        items=[nomination_out(row) for row in rows[: query.limit]],
        next_cursor=next_cursor(rows, query.limit, nominations.page_cursor),
    )
    return as_json(body)


@bp.delete("/nominations/<nomination_id>")
@requires(Permission.TRAINING_NOMINATE)
@api_spec.validate(resp=SpecResponse("HTTP_204", HTTP_403=ErrorBody, HTTP_404=ErrorBody), tags=TAGS)
def withdraw_nomination(nomination_id: str) -> Response:
    """Withdraw one's own nomination."""
    nominations.withdraw_nomination(db(), actor=current_actor(), nomination_id=nomination_id)
    db().commit()
    return no_content()


# ---------------------------------------------------------------- clips


@bp.post("/clips")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=ClipOut, HTTP_201=ClipOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def cut_clip(json: ClipIn) -> tuple[Response, int]:
    """Cut a clip from the call's redacted audio, by times or by a selection of transcript segments; the answer
    carries its redacted transcript (audited as opening the clip).

    The same clip asked for again by the same user within 10 minutes (same call, span and text: a retry) cuts no
    second one: 200 with the clip cut before."""
    rt, actor = runtime(), current_actor()
    segments = _segments(json)
    if segments is not None:
        start_s, end_s = clips.selection_window(
            db(), actor=actor, recording_id=json.recording_id, first=segments[0], last=segments[1]
        )
    else:
        start_s, end_s = float(json.start_s or 0.0), float(json.end_s or 0.0)
    cut = clips.cut_clip(
        db(),
        rt.store,
        rt.envelope,
        actor=actor,
        recording_id=json.recording_id,
        start_s=start_s,
        end_s=end_s,
        text=clips.ClipText(title=json.title, tags=tuple(json.tags), notes=json.notes),
        rules=rules(),
        ffmpeg=rt.settings.ffmpeg_path(),
        tone=rt.settings.redaction_audio == "tone",
        customer_number_pattern=rt.settings.customer_number_rule,
        reuse_recent=True,
    )
    # The answer carries the clip's redacted transcript: read as opening the clip reads it, audited against its call
    # (`training.clip_viewed`), as a changed clip's answer is.
    view = clip_views.view_clip(db(), rt.envelope, actor=actor, clip_id=cut.made.id, rules=rules())
    db().commit()
    return as_json(clip_out(view), 201 if cut.new else 200)


def _segments(json: ClipIn) -> tuple[int, int] | None:
    """The first and last segment where the clip's span is given by segments, None where by times; `Invalid` naming
    the field missing from a span or given besides it. Half of a second span was ignored, and each refusal named
    `body`."""
    times = [name for name in ("start_s", "end_s") if getattr(json, name) is not None]
    segments = [name for name in ("first_segment", "last_segment") if getattr(json, name) is not None]
    if times and segments:
        message = "give a span by times (start_s, end_s) or by segments (first_segment, last_segment), not both"
        raise Invalid(segments[0], message, code="conflicting_span")
    given, pair = (segments, ("first_segment", "last_segment")) if segments else (times, ("start_s", "end_s"))
    missing = [name for name in pair if name not in given]
    if len(missing) == 1:
        raise Invalid(missing[0], f"give {missing[0]} with {given[0]}", code="missing")
    if missing:
        raise Invalid("start_s", "give start_s and end_s, or first_segment and last_segment", code="missing")
    if json.first_segment is not None and json.last_segment is not None:
        return json.first_segment, json.last_segment
    return None


@bp.get("/clips")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=ClipPageOut, HTTP_404=ErrorBody, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid
)
def list_clips(query: ClipsQuery) -> tuple[Response, int]:
    """The library's clips newest first (of one call, or one's own with `mine`), without transcripts."""
    actor = current_actor()
    rows = clip_views.list_clips(
        db(), actor=actor, recording_id=query.recording_id, mine=query.mine, cursor=query.cursor, limit=query.limit + 1
    )
    page = rows[: query.limit]
    views = clip_views.describe_clips(
        db(), runtime().envelope, actor=actor, clips=page, rules=rules(), transcripts=False
    )
    db().commit()  # the agents' pseudonym key, made on first use
    following = next_id_cursor(rows, query.limit, clip_views.CURSOR_TAG)
    return as_json(ClipPageOut(items=[clip_out(view) for view in views], next_cursor=following))


@bp.get("/clips/<clip_id>")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(resp=SpecResponse(HTTP_200=ClipOut, HTTP_404=ErrorBody), tags=TAGS)
def get_clip(clip_id: str) -> tuple[Response, int]:
    """One clip with its redacted transcript (audited)."""
    view = clip_views.view_clip(db(), runtime().envelope, actor=current_actor(), clip_id=clip_id, rules=rules())
    db().commit()
    return as_json(clip_out(view))


@bp.patch("/clips/<clip_id>")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=ClipOut, HTTP_403=ErrorBody, HTTP_404=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def update_clip(clip_id: str, json: ClipPatch) -> tuple[Response, int]:
    """Change a clip's title, tags or notes (its author only); personal data in them is redacted."""
    rt, actor = runtime(), current_actor()
    clip = clips.update_clip(
        db(),
        actor=actor,
        clip_id=clip_id,
        title=json.title,
        tags=json.tags,
        notes=json.notes,
        customer_number_pattern=rt.settings.customer_number_rule,
    )
    # The answer carries the clip's redacted transcript: read as opening the clip reads it, audited against its call.
    view = clip_views.view_clip(db(), rt.envelope, actor=actor, clip_id=clip.id, rules=rules())
    db().commit()
    return as_json(clip_out(view))


@bp.delete("/clips/<clip_id>")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(resp=SpecResponse("HTTP_204", HTTP_403=ErrorBody, HTTP_404=ErrorBody), tags=TAGS)
def delete_clip(clip_id: str) -> Response:
    """Delete a clip (its author only); it leaves the author's sets and shows as removed in other trainers'."""
    keys = clips.delete_clip(db(), actor=current_actor(), clip_id=clip_id)
    db().commit()
    clips.purge_clip_objects(runtime().store, keys)
    return no_content()


@bp.post("/clips/<clip_id>/recut")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(resp=SpecResponse(HTTP_200=ClipOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody), tags=TAGS)
def recut_clip(clip_id: str) -> tuple[Response, int]:
    """Cut an outdated clip again from the call's current redacted audio."""
    rt, actor = runtime(), current_actor()
    clip = clips.recut_clip(
        db(),
        rt.store,
        rt.envelope,
        actor=actor,
        clip_id=clip_id,
        rules=rules(),
        ffmpeg=rt.settings.ffmpeg_path(),
        tone=rt.settings.redaction_audio == "tone",
    )
    view = clip_views.view_clip(db(), rt.envelope, actor=actor, clip_id=clip.id, rules=rules())  # as a cut's answer
    db().commit()
    return as_json(clip_out(view))


@bp.get("/clips/<clip_id>/audio")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(
    query=ClipAudioQuery,
    headers=RangeHeaders,
    resp=FileAnswer(*CLIP_MEDIA_TYPES, ranges=True, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    skip_validation=True,  # the view reads its parameter itself, and the answer is streamed
)
def clip_audio(clip_id: str) -> Response:
    """The clip's audio (`format=opus` or `mp3`), decrypted; single byte ranges; the bytes each answer carries are
    audited (once a minute per clip and format, and again for a fetch carrying more)."""
    rt = runtime()
    actor, codec = current_actor(), request.args.get("format", "opus")
    audio = clip_views.clip_audio(db(), rt.envelope, actor=actor, clip_id=clip_id, codec=codec, rules=rules())
    etag = clip_tag(db().get_one(TrainingClip, clip_id), key=audio.key, size=audio.size)
    span = requested_span(audio.size, etag=etag)
    if span is not None and serves_bytes():
        clip_views.record_clip_served(
            db(), actor=actor, audio=audio, clip_id=clip_id, codec=codec, start=span.start, stop=span.stop
        )
    db().commit()
    return ranged_response(
        audio.size,
        audio.media_type,
        lambda start, stop: clip_views.clip_bytes(rt.store, rt.envelope, audio, start=start, stop=stop),
        etag=etag,
    )


def clip_tag(clip: TrainingClip, *, key: str, size: int) -> str:
    """The entity tag of a clip's audio in one codec (`key`): its span and the redactions muted in it, which a
    recut (the only thing that writes its audio again) always changes, and the size."""
    return entity_tag("clip", key, clip.start_s, clip.end_s, clip.muted_spans, size)
