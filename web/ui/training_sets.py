"""Training sets for trainers: gather clips into ordered sets, share them with the other trainers, play a set
with the transcripts following, and export it as a ZIP downloadable for 7 days (the API streams it)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from recordings_service.db import utcnow
from recordings_service.errors import DomainError, Invalid
from recordings_service.models import TrainingClip
from recordings_service.permissions import Permission
from recordings_service.training import clip_views, export, sets
from web.access import current_actor, requires
from web.api.validation import next_id_cursor
from web.database import db, runtime
from web.errors import STATUS_BY_ERROR, abandon_refused
from web.ui.error_messages import error_message, flash_error
from web.ui.training import PAGE_SIZE, act, library_page, rules

bp = Blueprint("training_sets", __name__, url_prefix="/training/sets")
MOVES = ("up", "down", "remove")


@bp.get("/")
@requires(Permission.TRAINING_MANAGE)
def index() -> str:
    """One's own sets and those other trainers share, newest first."""
    return _sets_page()


def _sets_page(form: dict[str, object] | None = None, error: str | None = None, field: str | None = None) -> str:
    """The sets page, its empty-set form as typed and why when `error` refused it."""
    actor = current_actor()
    rows = sets.list_sets(db(), actor=actor, cursor=request.args.get("cursor") or None, limit=PAGE_SIZE + 1)
    page = rows[:PAGE_SIZE]
    return render_template(
        "training/sets.html",
        sets=page,
        actor_id=actor.id,
        next_cursor=next_id_cursor(rows, PAGE_SIZE, sets.CURSOR_TAG),
        form=form or {"title": "", "description": "", "shared": False},
        error=error,
        field=field,
    )


@bp.post("/")
@requires(Permission.TRAINING_MANAGE)
def create() -> Response | tuple[str, int]:
    """A new set of the chosen clips, in the order they were listed. Refused, the page it was sent from (the clips
    page, or the sets page for an empty set) comes back with the title, description and ticks as they were."""
    title, description = request.form.get("title", ""), request.form.get("description", "")
    shared = request.form.get("shared") == "1"
    clip_ids = [clip_id for clip_id in request.form.getlist("clip_ids") if clip_id]
    try:
        made = sets.create_set(
            db(),
            runtime().envelope,
            actor=current_actor(),
            title=title,
            description=description,
            shared=shared,
            clip_ids=clip_ids,
            rules=rules(),
            customer_number_pattern=runtime().settings.customer_number_rule,
            reuse_recent=True,
        ).made
    except DomainError as exc:
        abandon_refused(exc)
        form = {"title": title, "description": description, "shared": shared, "clip_ids": clip_ids}
        status = _status(exc)
        if request.form.get("next", "") == url_for("training.clip_library"):
            # Back on the page the clips were ticked on (it was the first page: the ticks of any other were lost).
            mine, cursor = request.form.get("mine") == "1", request.form.get("cursor") or None
            return library_page(mine=mine, cursor=cursor, form=form, error=error_message(exc), field=exc.field), status
        return _sets_page(form=form, error=error_message(exc), field=exc.field), status
    db().commit()
    flash(gettext("Training set “%(title)s” created.", title=made.title))
    return redirect(url_for("training_sets.player", set_id=made.id))


@bp.get("/<set_id>")
@requires(Permission.TRAINING_MANAGE)
def player(set_id: str) -> str:
    """The set's clips in order, played one after the other with their transcripts following; the owner
    reorders, shares and exports it here. `?export=<id>` shows that export's download."""
    return _player_page(set_id)


def _player_page(
    set_id: str, *, typed: dict[str, str] | None = None, error: str | None = None, field: str | None = None
) -> str:
    """The set's page; after a refused change of its title or description, with them as `typed` and the `error`
    beside its `field`."""
    actor = current_actor()
    envelope = runtime().envelope
    view = sets.view_set(db(), envelope, actor=actor, set_id=set_id, rules=rules())
    made = None
    if request.args.get("export"):
        made = export.get_export(db(), actor=actor, export_id=request.args["export"])
        if made.set_id != view.training_set.id:
            abort(404)
    owner = view.training_set.owner_id == actor.id
    present = {item.clip_id for item in view.training_set.items}
    addable: list[TrainingClip] = []
    older_clips = None
    if owner:
        # The library a page at a time (`?clips=<cursor>`): it offered the newest 200 only, the rest unreachable.
        library = clip_views.list_clips(
            db(), actor=actor, cursor=request.args.get("clips") or None, limit=clip_views.MAX_PAGE + 1
        )
        shown = library[: clip_views.MAX_PAGE]
        # Only the clips a set takes now: an outdated or withdrawn one was offered, then refused when picked.
        states = clip_views.describe_clips(
            db(),
            envelope,
            actor=actor,
            clips=[clip for clip in shown if clip.id not in present],
            rules=rules(),
            transcripts=False,
        )
        addable = [state.clip for state in states if state.status is clip_views.ClipStatus.AVAILABLE]
        older_clips = next_id_cursor(library, clip_views.MAX_PAGE, clip_views.CURSOR_TAG)
    db().commit()  # the set's viewing is audited
    expired = made is not None and made.expires_at <= utcnow()  # a bookmark outlives the download
    return render_template(
        "training/set.html",
        view=view,
        owner=owner,
        addable=addable,
        older_clips=older_clips,
        version=sets.set_version(view.training_set),
        export=made,
        expired=expired,
        audio=_audio_url,
        typed=typed or {"title": view.training_set.title, "description": view.training_set.description},
        error=error,
        field=field,
    )


def _audio_url(clip_id: str) -> str:
    return url_for("training_api.clip_audio", clip_id=clip_id, format="opus")


@bp.post("/<set_id>/edit")
@requires(Permission.TRAINING_MANAGE)
def edit(set_id: str) -> Response | tuple[str, int]:
    """Change the set's title and description. Refused for what was typed, or because the set changed since the
    page was shown, the page comes back with them as typed and why (a redirect lost them)."""
    typed = {"title": request.form.get("title", ""), "description": request.form.get("description", "")}
    try:
        sets.update_set(
            db(),
            runtime().envelope,
            actor=current_actor(),
            set_id=set_id,
            title=typed["title"],
            description=typed["description"],
            version=_version(),
            rules=rules(),
            customer_number_pattern=runtime().settings.customer_number_rule,
        )
    except DomainError as exc:
        abandon_refused(exc)
        if not isinstance(exc, Invalid | sets.SetChanged):
            flash_error(exc)
            return redirect(_page_or_sets(set_id, exc))
        return _player_page(set_id, typed=typed, error=error_message(exc), field=exc.field), _status(exc)
    db().commit()
    flash(gettext("Set saved."))
    return redirect(url_for("training_sets.player", set_id=set_id))


@bp.post("/<set_id>/share")
@requires(Permission.TRAINING_MANAGE)
def share(set_id: str) -> Response:
    """Share the set with the other trainers (`shared=1`), or stop sharing it."""
    shared = request.form.get("shared") == "1"
    return act(
        gettext("The set is shared with the other trainers.") if shared else gettext("The set is yours only now."),
        lambda: sets.update_set(
            db(), runtime().envelope, actor=current_actor(), set_id=set_id, shared=shared, rules=rules()
        ),
        back=url_for("training_sets.player", set_id=set_id),
        refused=lambda exc: _page_or_sets(set_id, exc),
    )


@bp.post("/<set_id>/clips")
@requires(Permission.TRAINING_MANAGE)
def add_clip(set_id: str) -> Response:
    """Put a clip of the library at the end of the set."""
    clip_id = request.form.get("clip_id", "")
    return act(
        gettext("Clip added to the set."),
        lambda: _reorder(set_id, lambda order: _added(order, clip_id)),
        back=url_for("training_sets.player", set_id=set_id),
        refused=lambda exc: _page_or_sets(set_id, exc),
    )


@bp.post("/<set_id>/order")
@requires(Permission.TRAINING_MANAGE)
def order(set_id: str) -> Response:
    """Move a clip one place up or down, or take it out of the set (it stays in the library)."""
    clip_id, move = request.form.get("clip_id", ""), request.form.get("move", "")
    if move not in MOVES:
        abort(400)
    done = gettext("Clip taken out of the set.") if move == "remove" else gettext("Order saved.")
    return act(
        done,
        lambda: _reorder(set_id, lambda order: _moved(order, clip_id, move)),
        back=url_for("training_sets.player", set_id=set_id, _anchor=f"clip-{clip_id}" if move != "remove" else None),
        refused=lambda exc: _page_or_sets(set_id, exc),
    )


def _reorder(set_id: str, change: Callable[[list[str]], list[str]]) -> None:
    """Give the set the order `change` makes of its current one, if that is the one the page showed (the form's
    `version`): a move or an addition meant for another order is refused, the set shown again as it is."""
    training_set = sets.load_set(db(), actor=current_actor(), set_id=set_id, lock=True)  # read as it is now
    sets.require_version(training_set, _version())
    clip_ids = change([item.clip_id for item in training_set.items])
    sets.update_set(db(), runtime().envelope, actor=current_actor(), set_id=set_id, clip_ids=clip_ids, rules=rules())


def _version() -> int | None:
    """The set's version the page's form was made from; None from a page shown before its forms carried one."""
    raw = request.form.get("version", "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        return -1  # no version a set ever has: refused as made from another one


def _added(order: list[str], clip_id: str) -> list[str]:
    if not clip_id.strip():  # it was "Clip added to the set." with nothing added
        raise Invalid("clip_id", gettext("choose a clip to add"), code="missing")
    return [*order, clip_id]


def _moved(order: list[str], clip_id: str, move: str) -> list[str]:
    if clip_id not in order:  # it was "Order saved." with nothing moved
        raise Invalid("clip_id", gettext("this clip is not in the set"), code="not_in_set")
    if move == "remove":
        return [item for item in order if item != clip_id]
    at = order.index(clip_id)
    to = max(0, at - 1) if move == "up" else min(len(order) - 1, at + 1)
    order[at], order[to] = order[to], order[at]
    return order


@bp.post("/<set_id>/delete")
@requires(Permission.TRAINING_MANAGE)
def delete(set_id: str) -> Response:
    """Delete the set and its exports; its clips stay in the library."""
    try:
        sets.delete_set(db(), actor=current_actor(), set_id=set_id)
    except DomainError as exc:
        abandon_refused(exc)
        flash_error(exc)
        return redirect(_page_or_sets(set_id, exc))
    db().commit()
    flash(gettext("Set deleted; its clips stay in the library."))
    return redirect(url_for("training_sets.index"))


@bp.post("/<set_id>/export")
@requires(Permission.TRAINING_MANAGE)
def export_set(set_id: str) -> Response:
    """Open a 7-day download of the set as it stands (audited), shown on the set's page."""
    try:
        made = export.export_set(db(), actor=current_actor(), set_id=set_id)
    except DomainError as exc:
        abandon_refused(exc)
        flash_error(exc)
        return redirect(_page_or_sets(set_id, exc))
    db().commit()
    flash(gettext("Export ready: the download below is valid for 7 days."))
    return redirect(url_for("training_sets.player", set_id=set_id, export=made.id, _anchor="export"))


def _status(exc: DomainError) -> int:
    return next((code for kind, code in STATUS_BY_ERROR if isinstance(exc, kind)), 400)


def _page_or_sets(set_id: str, exc: DomainError) -> str:
    """The set's page after a refusal; the list of sets when the set itself is gone (deleted in another tab: its
    page would be a 404, and the message left for whichever page came next)."""
    if exc.why == "set_not_found":
        return url_for("training_sets.index")
    return url_for("training_sets.player", set_id=set_id)
