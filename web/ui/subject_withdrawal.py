"""Withdrawing a subject request registered by mistake, from its page (`privacy.withdrawal`): closed with nothing
carried out and the reason kept; a refused withdrawal comes back to the request with the reason as typed and why."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from recordings_service.errors import DomainError
from recordings_service.permissions import Permission
from recordings_service.privacy import subjects, withdrawal
from web.access import current_actor, requires
from web.database import db
from web.ui.refused_form import refusal_status, refused_form
from web.ui.subjects import refused_page, sent_from_page

bp = Blueprint("subject_withdrawal", __name__, url_prefix="/subjects")


@bp.post("/<request_id>/withdraw")
@requires(Permission.SUBJECT_REQUESTS)
def withdraw(request_id: str) -> Response | tuple[str, int]:
    subjects.get_request(db(), request_id)  # an unknown request is a 404, not a message
    try:
        shown = sent_from_page()
        withdrawal.withdraw_request(
            db(), actor=current_actor(), request_id=request_id, reason=request.form.get("reason", "")
        )
    except DomainError as exc:
        return refused_page(request_id, refused_form("withdraw", exc)), refusal_status(exc)
    db().commit()
    flash(gettext("Request withdrawn: nothing was carried out."))
    return redirect(url_for("subjects.detail", request_id=request_id, cursor=shown))
