"""A clip's title, tags and notes edited from the library, by the trainer who cut it: a typo meant deleting the
clip (which takes it out of every set) and cutting it again. The JSON API has the same (`PATCH
/api/v1/training/clips/<id>`); both call `clips.update_clip`, which redacts personal data typed into them."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from recordings_service.errors import Invalid
from recordings_service.permissions import Permission
from recordings_service.training import clips
from web.access import current_actor, requires
from web.database import db, runtime
from web.errors import abandon_refused
from web.ui.criteria_lists import listed
from web.ui.error_messages import error_message

bp = Blueprint("training_clips", __name__, url_prefix="/training/clips")
FIELDS = ("title", "tags", "notes")


@bp.get("/<clip_id>/edit")
@requires(Permission.TRAINING_MANAGE)
def edit(clip_id: str) -> str:
    clip = clips.own_clip(db(), actor=current_actor(), clip_id=clip_id)
    return _page(clip_id, {"title": clip.title, "tags": ", ".join(clip.tags), "notes": clip.notes})


@bp.post("/<clip_id>/edit")
@requires(Permission.TRAINING_MANAGE)
def save(clip_id: str) -> Response | tuple[str, int]:
    """Save the clip's text; a refused one comes back with what was typed and the field named."""
    form = {name: request.form.get(name, "") for name in FIELDS}
    try:
        clip = clips.update_clip(
            db(),
            actor=current_actor(),
            clip_id=clip_id,
            title=form["title"],
            tags=listed(form["tags"]) or [],
            notes=form["notes"],
            customer_number_pattern=runtime().settings.customer_number_rule,
        )
    except Invalid as exc:
        abandon_refused(exc)
        return _page(clip_id, form, error=error_message(exc), field=exc.field), 422
    db().commit()
    flash(gettext("Clip “%(title)s” saved.", title=clip.title))
    return redirect(url_for("training.clip_library", mine=1, _anchor=f"clip-{clip.id}"))


def _page(clip_id: str, form: Mapping[str, str], *, error: str | None = None, field: str | None = None) -> str:
    return render_template("training/clip_edit.html", clip_id=clip_id, form=form, error=error, field=field)
