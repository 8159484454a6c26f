"""The training library for trainers: pull sample calls, work on a call's redacted transcript and audio to cut
clips, the library's clips, and the calls QA supervisors nominated. Sets and their player are in
web/ui/training_sets.py; supervisors nominate from the call page (web/ui/call_page.py)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping

from babel.numbers import get_decimal_symbol
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale, gettext
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from recordings_service.errors import Conflict, DomainError, Invalid, NotFound, invalid_from
from recordings_service.models.training import NominationKind
from recordings_service.permissions import Permission
from recordings_service.training import clip_views, clips, nominations, sampling
from recordings_service.training.call_view import view_call
from recordings_service.training.sampling import MAX_SAMPLE, SampleCriteria, SampleMode, Stratum
from web.access import current_actor, current_can, requires
from web.api.validation import next_cursor, next_id_cursor
from web.database import db, runtime
from web.errors import abandon_refused
from web.i18n import organisation_timezone
from web.identities import training_rules as rules
from web.links import call_url, safe_next
from web.ui.criteria_lists import list_refusal, listed
from web.ui.error_messages import error_message, flash_error
from web.ui.numbers import typed_seconds

bp = Blueprint("training", __name__, url_prefix="/training")
PAGE_SIZE = 50
SAMPLE_FIELDS = (
    *("from", "to", "queues", "languages", "min_duration_s", "max_duration_s", "score_min", "score_max"),
    *("evaluated", "words", "agents", "exclude_agents", "nominated", "size", "mode", "stratify_by", "seed"),
)
CLIP_FIELDS = ("start_s", "end_s", "title", "tags", "notes")
DIRECTIONS = ("inbound", "outbound")
EVALUATED_CHOICES = {"": None, "yes": True, "no": False}


def act(
    done: str, action: Callable[[], object], *, back: str, refused: Callable[[DomainError], str] | None = None
) -> Response:
    """Run one change, commit, and go back with the outcome (a refusal is audited); a refusal goes where `refused`
    says, when given (not to a page of something deleted meanwhile, which would be a 404)."""
    try:
        action()
    except DomainError as exc:
        abandon_refused(exc)
        flash_error(exc)
        if refused is not None:
            return redirect(refused(exc))
    else:
        db().commit()
        flash(done)
    return redirect(back)


# ---------------------------------------------------------------- samples


@bp.get("/")
@requires(Permission.TRAINING_MANAGE)
def index() -> str | tuple[str, int]:
    """The sample form; once submitted (`size` given), the sample it draws, audited."""
    if "size" not in request.args:
        return _sample_page(_sample_defaults())
    form: dict[str, object] = {name: request.args.get(name, "").strip() for name in SAMPLE_FIELDS}
    form["directions"] = request.args.getlist("directions")
    try:
        criteria = _criteria(request.args)
        sample = sampling.pull_sample(db(), runtime().envelope, actor=current_actor(), criteria=criteria, rules=rules())
    except Invalid as exc:
        db().rollback()
        # A list's item is named by its place (`directions.0`); the form names the list.
        return _sample_page(form, error=error_message(exc), field=exc.field.split(".")[0]), 422
    db().commit()
    form["seed"] = str(sample.seed)
    return _sample_page(form, sample=sample)


def _sample_page(
    form: Mapping[str, object],
    *,
    sample: sampling.Sample | None = None,
    error: str | None = None,
    field: str | None = None,
) -> str:
    """The sample form; an `error` is shown naming its `field` by the field's label."""
    return render_template(
        "training/samples.html",
        form=form,
        sample=sample,
        error=error,
        field=field,
        rules=rules(),
        directions=DIRECTIONS,
        strata=[stratum.value for stratum in Stratum],
        kinds=[kind.value for kind in NominationKind],
        max_sample=MAX_SAMPLE,
    )


def _sample_defaults() -> dict[str, object]:
    """A form ready to adjust: ten calls at random, with a fresh seed to draw them again."""
    return {"size": "10", "mode": SampleMode.RANDOM.value, "seed": str(secrets.randbelow(2**31)), "directions": []}


def _criteria(args: MultiDict[str, str]) -> SampleCriteria:
    """The form as the service's criteria; an unreadable value is an `Invalid` naming its field."""
    value = {name: args.get(name, "").strip() for name in SAMPLE_FIELDS}
    mode = value["mode"] or SampleMode.RANDOM.value
    raw = {
        "from": value["from"] or None,
        "to": value["to"] or None,
        "queues": listed(value["queues"]),
        "languages": listed(value["languages"]),
        "directions": [direction for direction in args.getlist("directions") if direction] or None,
        "min_duration_s": _decimal(value["min_duration_s"]),
        "max_duration_s": _decimal(value["max_duration_s"]),
        "score_min": _decimal(value["score_min"]),
        "score_max": _decimal(value["score_max"]),
        "evaluated": _evaluated(value["evaluated"]),
        "words": value["words"] or None,
        "agents": listed(value["agents"]),
        "exclude_agents": listed(value["exclude_agents"]),
        "nominated": value["nominated"] or None,
        "size": value["size"],
        "mode": mode,
        # The strata choice matters only to a stratified sample; a random one ignores the select.
        "stratify_by": (value["stratify_by"] or None) if mode == SampleMode.STRATIFIED.value else None,
        "seed": value["seed"] or None,
        # The dates are days of the organisation's calendar, as the page shows the calls' times.
        "timezone": organisation_timezone(),
    }
    try:
        return SampleCriteria.model_validate(raw)
    except ValidationError as exc:
        raise list_refusal(invalid_from(exc)) from None


def _evaluated(raw: str) -> bool | None:
    """The select's choice; anything else (a hand-edited link) is refused rather than read as "either"."""
    if raw not in EVALUATED_CHOICES:
        raise Invalid("evaluated", "choose one of the options offered", code="invalid_choice")
    return EVALUATED_CHOICES[raw]


def _decimal(raw: str) -> str | None:
    """A number as typed, with a decimal comma accepted (`2,5`); the model checks it."""
    return raw.replace(",", ".") or None


# ---------------------------------------------------------------- a trainer's call view and clips


@bp.get("/calls/<recording_id>")
@requires(Permission.TRAINING_MANAGE)
def call(recording_id: str) -> str:
    """The call's redacted transcript and audio, its nominations and clips, and the form to cut a clip."""
    return _call_page(recording_id, form={"start_s": "", "end_s": "", "title": "", "tags": "", "notes": ""})


@bp.post("/calls/<recording_id>/clips")
@requires(Permission.TRAINING_MANAGE)
def cut(recording_id: str) -> Response | tuple[str, int]:
    """Cut a clip from the call's redacted audio; a refused one comes back with the form as it was."""
    form = {name: request.form.get(name, "") for name in CLIP_FIELDS}
    rt = runtime()
    try:
        clip = clips.cut_clip(
            db(),
            rt.store,
            rt.envelope,
            actor=current_actor(),
            recording_id=recording_id,
            start_s=_seconds(form, "start_s"),
            end_s=_seconds(form, "end_s"),
            text=clips.ClipText(title=form["title"], tags=tuple(listed(form["tags"]) or ()), notes=form["notes"]),
            rules=rules(),
            ffmpeg=rt.settings.ffmpeg_path(),
            tone=rt.settings.redaction_audio == "tone",
            customer_number_pattern=rt.settings.customer_number_rule,
            reuse_recent=True,
        ).made
    except (Invalid, Conflict, NotFound) as exc:
        if isinstance(exc, NotFound) and exc.why != "audio_missing":
            raise  # the call is not there (or hidden): the error page
        abandon_refused(exc)
        # A page shown before the call's audio went missing: shown again, saying so, with what was typed.
        status = 422 if isinstance(exc, Invalid) else 404 if isinstance(exc, NotFound) else 409
        form |= {name: _seconds_shown(form[name]) for name in ("start_s", "end_s")}
        return _call_page(recording_id, form=form, error=error_message(exc), field=exc.field), status
    db().commit()
    flash(gettext("Clip “%(title)s” cut from the redacted audio.", title=clip.title))
    return redirect(url_for("training.call", recording_id=recording_id, _anchor="call-clips"))


def _call_page(
    recording_id: str, *, form: Mapping[str, str], error: str | None = None, field: str | None = None
) -> str:
    found = view_call(db(), runtime().envelope, actor=current_actor(), recording_id=recording_id, rules=rules())
    db().commit()  # the transcript's reading is audited (and the agents' pseudonym key made on first use)
    return render_template(
        "training/call.html",
        call=found,
        recording=found.recording,
        form=form,
        error=error,
        field=field,
        # training.js writes the seconds it takes from the transcript or the playhead as the reader writes them.
        decimal_separator=get_decimal_symbol(get_locale()),
    )


# Babel rounds to ten decimals within Decimal's 28 digits: seconds of 10**18 or more ("1e20" typed) raised (a 500).
_FORMATTED_BELOW = 1e18


def _seconds_shown(raw: str) -> str:
    """Seconds typed into the form, shown back as the reader writes them (Finnish 12,5, English 12.5: either is
    taken); what does not read as seconds comes back as typed, to correct."""
    seconds = typed_seconds(raw)
    if seconds is None or abs(seconds) >= _FORMATTED_BELOW:
        return raw
    return format_decimal(seconds, format="0.##########")


def _seconds(form: Mapping[str, str], name: str) -> float:
    seconds = typed_seconds(form[name])
    if seconds is None:
        raise Invalid(name, gettext("give the time in seconds from the start of the call"))
    return seconds


@bp.get("/clips/")
@requires(Permission.TRAINING_MANAGE)
def clip_library() -> str:
    """The library's clips, newest first (only one's own with `mine=1`), to play and gather into a set."""
    return library_page(mine=request.args.get("mine") == "1", cursor=request.args.get("cursor") or None)


def library_page(
    *,
    mine: bool = False,
    cursor: str | None = None,
    form: Mapping[str, object] | None = None,
    error: str | None = None,
    field: str | None = None,
) -> str:
    """The clip library; a refused new set (`form`: its title, description, shared and ticked clip_ids) comes back
    with what was typed and ticked, on the page it was ticked on, and the `error` naming its `field`."""
    actor = current_actor()
    rows = clip_views.list_clips(db(), actor=actor, mine=mine, cursor=cursor, limit=PAGE_SIZE + 1)
    page = rows[:PAGE_SIZE]
    views = clip_views.describe_clips(
        db(), runtime().envelope, actor=actor, clips=page, rules=rules(), transcripts=False
    )
    db().commit()  # the agents' pseudonym key, made on first use
    return render_template(
        "training/clips.html",
        views=views,
        mine=mine,
        actor_id=actor.id,
        cursor=cursor,
        next_cursor=next_id_cursor(rows, PAGE_SIZE, clip_views.CURSOR_TAG),
        form=form or {},
        error=error,
        field=field,
    )


@bp.post("/clips/<clip_id>/recut")
@requires(Permission.TRAINING_MANAGE)
def recut(clip_id: str) -> Response:
    """Cut an outdated clip again from its call's current redacted audio."""
    rt = runtime()
    return act(
        gettext("The clip was cut again from the current redacted audio."),
        lambda: clips.recut_clip(
            db(),
            rt.store,
            rt.envelope,
            actor=current_actor(),
            clip_id=clip_id,
            rules=rules(),
            ffmpeg=rt.settings.ffmpeg_path(),
            tone=rt.settings.redaction_audio == "tone",
        ),
        back=_back(url_for("training.clip_library")),
    )


@bp.post("/clips/<clip_id>/delete")
@requires(Permission.TRAINING_MANAGE)
def delete_clip(clip_id: str) -> Response:
    """Delete one's own clip (it leaves its sets; other trainers' show it as removed); its audio objects go once
    that is committed."""
    try:
        keys = clips.delete_clip(db(), actor=current_actor(), clip_id=clip_id)
    except DomainError as exc:
        abandon_refused(exc)
        flash_error(exc)
    else:
        db().commit()
        clips.purge_clip_objects(runtime().store, keys)
        flash(gettext("Clip deleted."))
    return redirect(_back(url_for("training.clip_library")))


def _back(default: str) -> str:
    """Where a form came from (`next`), if it is a page of the training library; else `default`."""
    target = safe_next(request.form.get("next"), default)
    return target if target.startswith("/training/") else default


# ---------------------------------------------------------------- nominations


@bp.get("/nominations/")
@requires(Permission.NOMINATIONS_READ)
def nomination_list() -> str | tuple[str, int]:
    """The calls QA supervisors nominated, newest first, of one kind or both."""
    raw_kind = request.args.get("kind", "")
    if raw_kind not in {"", *(item.value for item in NominationKind)}:
        # A hand-edited link read as "both" would list nominations of a kind nobody asked for.
        refused = gettext("choose one of the options offered")
        return _nomination_page([], kind="", next_cursor=None, error=refused), 422
    kind = NominationKind(raw_kind) if raw_kind else None
    rows = nominations.list_nominations(
        db(),
        actor=current_actor(),
        kind=kind,
        cursor=request.args.get("cursor") or None,
        limit=PAGE_SIZE + 1,
        training_rules=rules(),
    )
    page = rows[:PAGE_SIZE]
    return _nomination_page(
        page, kind=raw_kind, next_cursor=next_cursor(rows, PAGE_SIZE, nominations.page_cursor), error=None
    )


def _nomination_page(
    rows: list[nominations.NominationRow], *, kind: str, next_cursor: str | None, error: str | None
) -> str:
    trainer = current_can(Permission.TRAINING_MANAGE)
    return render_template(
        "training/nominations.html",
        rows=rows,
        kind=kind,
        kinds=[item.value for item in NominationKind],
        next_cursor=next_cursor,
        error=error,
        link=(lambda recording_id: url_for("training.call", recording_id=recording_id)) if trainer else call_url,
    )
