"""Training sets API: ordered clips with title and description, shared with other trainers or not, and their
export as a ZIP (clips, redacted transcripts, an offline index.html) downloadable for 7 days, audited."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, get_template_attribute, jsonify, stream_with_context
from flask_babel import get_locale, gettext
from spectree import Response as SpecResponse

from recordings_service.permissions import Permission
from recordings_service.training import export, sets
from recordings_service.training.export_page import PageWords
from web.access import current_actor, requires
from web.api import api_spec
from web.api.file_answers import FileAnswer
from web.api.training import TAGS, no_content, rules
from web.api.training_shapes import (
    ExportOut,
    SetConflictBody,
    SetIn,
    SetOut,
    SetPageOut,
    SetPatch,
    SetsQuery,
    export_out,
    set_out,
    set_summary,
)
from web.api.validation import ErrorBody, as_json, next_id_cursor, refuse_invalid
from web.database import db, runtime
from web.i18n import LANGUAGES, SPEAKER_LABELS, decimal, local_time, organisation_zone

bp = Blueprint("training_sets_api", __name__, url_prefix="/api/v1/training")


@bp.post("/sets")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=SetOut, HTTP_201=SetOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def create_set(json: SetIn) -> tuple[Response, int]:
    """A new training set of available clips, in playing order.

    The same set asked for again by the same user within 10 minutes (same title, description, sharing and clips: a
    retry) makes no second one: 200 with the set made before."""
    rt, actor = runtime(), current_actor()
    created = sets.create_set(
        db(),
        rt.envelope,
        actor=actor,
        title=json.title,
        description=json.description,
        shared=json.shared,
        clip_ids=json.clip_ids,
        rules=rules(),
        customer_number_pattern=runtime().settings.customer_number_rule,
        reuse_recent=True,
    )
    view = sets.view_set(db(), rt.envelope, actor=actor, set_id=created.made.id, rules=rules())
    db().commit()
    return as_json(set_out(view, actor_id=actor.id), 201 if created.new else 200)


@bp.get("/sets")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(resp=SpecResponse(HTTP_200=SetPageOut, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid)
def list_sets(query: SetsQuery) -> tuple[Response, int]:
    """One's own sets and those shared by other trainers (only one's own with `mine`), newest first."""
    actor = current_actor()
    rows = sets.list_sets(db(), actor=actor, mine=query.mine, cursor=query.cursor, limit=query.limit + 1)
    page = rows[: query.limit]
    body = SetPageOut(
        items=[set_summary(row, actor_id=actor.id) for row in page],
        next_cursor=next_id_cursor(rows, query.limit, sets.CURSOR_TAG),
    )
    return as_json(body)


@bp.get("/sets/<set_id>")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(resp=SpecResponse(HTTP_200=SetOut, HTTP_404=ErrorBody), tags=TAGS)
def get_set(set_id: str) -> tuple[Response, int]:
    """The set for its player: each clip's state (a removed one shows why), audio and transcript; audited."""
    actor = current_actor()
    view = sets.view_set(db(), runtime().envelope, actor=actor, set_id=set_id, rules=rules())
    db().commit()
    return as_json(set_out(view, actor_id=actor.id))


@bp.patch("/sets/<set_id>")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(
    resp=SpecResponse(
        HTTP_200=SetOut, HTTP_403=ErrorBody, HTTP_404=ErrorBody, HTTP_409=SetConflictBody, HTTP_422=ErrorBody
    ),
    tags=TAGS,
    before=refuse_invalid,
)
def update_set(set_id: str, json: SetPatch) -> tuple[Response, int]:
    """Change the title, description, sharing or the clips and their order (the set's owner only). With the
    `version` the change was made from, a set changed since is 409 `set_changed` with its `version` now."""
    rt, actor = runtime(), current_actor()
    try:
        sets.update_set(
            db(),
            rt.envelope,
            actor=actor,
            set_id=set_id,
            title=json.title,
            description=json.description,
            shared=json.shared,
            clip_ids=json.clip_ids,
            version=json.version,
            rules=rules(),
            customer_number_pattern=runtime().settings.customer_number_rule,
        )
    except sets.SetChanged as exc:
        db().rollback()  # the set's row was held for the change
        body = SetConflictBody(error=exc.code, message=exc.message, field=exc.field, version=exc.version)
        return jsonify(body.model_dump(mode="json", exclude_none=True)), 409
    view = sets.view_set(db(), rt.envelope, actor=actor, set_id=set_id, rules=rules())
    db().commit()
    return as_json(set_out(view, actor_id=actor.id))


@bp.delete("/sets/<set_id>")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(resp=SpecResponse("HTTP_204", HTTP_403=ErrorBody, HTTP_404=ErrorBody), tags=TAGS)
def delete_set(set_id: str) -> Response:
    """Delete the set and its exports (the owner only); its clips stay in the library."""
    sets.delete_set(db(), actor=current_actor(), set_id=set_id)
    db().commit()
    return no_content()


@bp.post("/sets/<set_id>/exports")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(resp=SpecResponse(HTTP_201=ExportOut, HTTP_404=ErrorBody), tags=TAGS)
def export_set(set_id: str) -> tuple[Response, int]:
    """Export the set: a ZIP download valid for 7 days (audited)."""
    created = export.export_set(db(), actor=current_actor(), set_id=set_id)
    db().commit()
    return as_json(export_out(created), 201)


@bp.get("/exports/<export_id>/download")
@requires(Permission.TRAINING_MANAGE)
@api_spec.validate(
    resp=FileAnswer("application/zip", HTTP_404=ErrorBody, HTTP_409=ErrorBody),
    tags=TAGS,
    skip_validation=True,  # the answer is streamed
)
def download_export(export_id: str) -> Response:
    """The export's ZIP, assembled from the clips as they are now; 409 `export_expired` after 7 days."""
    rt = runtime()
    contents = export.open_export(db(), rt.envelope, actor=current_actor(), export_id=export_id, rules=rules())
    db().commit()
    response = Response(
        stream_with_context(
            export.zip_chunks(rt.store, rt.envelope, contents, zone=organisation_zone(), words=page_words())
        ),
        mimetype="application/zip",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="training-set-{contents.export.id}.zip"'
    return response


def page_words() -> PageWords:
    """The export's offline page in the language of the request downloading it (the reader's), from the UI's
    catalogue; the stored values it names read as the library's pages name them (training/_labels.html)."""
    status = get_template_attribute("training/_labels.html", "status")

    def exported(moment: datetime) -> str:
        when = f"{local_time(moment).striptags()} {moment.tzname()}"
        return str(gettext("Exported %(when)s.", when=when))

    def state(value: str, reason: str | None) -> str:
        return str(status({"status": value, "reason": reason}).unescape())  # plain text: the page escapes it

    return PageWords(
        lang=str(get_locale() or LANGUAGES[0]),
        exported=exported,
        notice=gettext(
            "Personal data is removed from the audio and the transcripts. For training use only; do not copy further."
        ),
        play_all=gettext("Play all"),
        speaker=lambda value: str(SPEAKER_LABELS.get(value, value)),
        state=state,
        seconds=lambda value: f"{decimal(value)} s",
    )
