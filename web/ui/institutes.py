"""Research institutes for compliance: who may receive batches, under which agreement and transfer safeguard."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from recordings_service.errors import DomainError, Invalid
from recordings_service.models.research import SafeguardKind
from recordings_service.permissions import Permission
from recordings_service.research import institutes
from recordings_service.research.institutes import ADEQUACY, ADEQUACY_SOURCE_DATE, Safeguard
from web.access import current_actor, requires
from web.database import db
from web.ui.error_messages import error_message

bp = Blueprint("institutes", __name__, url_prefix="/research/institutes")
FIELDS = ("name", "country", "agreement_ref", "agreement_date", "contact")
SAFEGUARD_FIELDS = ("safeguard_kind", "safeguard_reference", "safeguard_date")
KINDS = [kind.value for kind in SafeguardKind]
# The service's names of the safeguard's fields (part of an institute, or recorded for one later) as the forms'
# inputs, so the refused input is the one marked.
FORM_FIELDS = {
    **{f"safeguard.{name}": f"safeguard_{name}" for name in ("kind", "reference", "date")},
    **{name: f"safeguard_{name}" for name in ("kind", "reference", "date")},
}


@bp.route("/", methods=["GET", "POST"])
@requires(Permission.RESEARCH_MANAGE)
def index() -> Response | str | tuple[str, int]:
    """The institutes with their transfer status; POST registers a new one."""
    if request.method == "GET":
        return _page({})
    form = request.form
    try:
        made = institutes.create_institute(
            db(),
            actor=current_actor(),
            name=form.get("name", ""),
            country=form.get("country", "").strip(),
            agreement_ref=form.get("agreement_ref", ""),
            agreement_date=_date(form, "agreement_date"),
            contact=form.get("contact", "").strip(),
            safeguard=_safeguard(form),
        )
    except DomainError as exc:
        db().rollback()
        values = {key: form.get(key, "") for key in FIELDS + SAFEGUARD_FIELDS}
        return _page(values, error=error_message(exc), field=_form_field(exc.field)), 422
    db().commit()
    flash(gettext("Institute %(name)s registered.", name=made.name))
    return redirect(url_for("institutes.index"))


@bp.post("/<institute_id>/safeguard")
@requires(Permission.RESEARCH_MANAGE)
def safeguard(institute_id: str) -> Response | tuple[str, int]:
    """Record (or replace) the transfer safeguard of an institute outside the EU/EEA."""
    institutes.get_institute(db(), institute_id)  # an unknown institute is a 404, not a message
    try:
        chosen = _safeguard(request.form)
        if chosen is None:
            raise Invalid("safeguard_kind", gettext("choose the kind of safeguard"))
        institutes.set_safeguard(db(), actor=current_actor(), institute_id=institute_id, safeguard=chosen)
    except DomainError as exc:
        db().rollback()
        # The page again with what was typed in that institute's row, the refused field marked.
        typed = {"institute_id": institute_id, **{key: request.form.get(key, "") for key in SAFEGUARD_FIELDS}}
        return _page({}, error=error_message(exc), field=_form_field(exc.field), safeguard_form=typed), 422
    db().commit()
    flash(gettext("Transfer safeguard recorded."))
    return redirect(url_for("institutes.index"))


def _page(
    form: dict[str, str],
    *,
    error: str | None = None,
    field: str | None = None,
    safeguard_form: dict[str, str] | None = None,
) -> str:
    return render_template(
        "research/institutes.html",
        institutes=institutes.list_institutes(db()),
        transfer_gap=institutes.transfer_gap,
        in_eea=institutes.in_eea,
        adequacy=sorted(ADEQUACY),
        adequacy_date=ADEQUACY_SOURCE_DATE,
        kinds=KINDS,
        form=form,
        error=error,
        field=field,
        safeguard_form=safeguard_form or {},
    )


def _form_field(field: str | None) -> str | None:
    return FORM_FIELDS.get(field, field) if field else field


def _safeguard(form: MultiDict[str, str]) -> Safeguard | None:
    """The optional safeguard part of a form: none unless a kind is chosen. A reference or date typed without
    one is refused rather than dropped: the institute would be registered without the clauses typed for it."""
    kind = form.get("safeguard_kind", "").strip()
    if not kind:
        if any(form.get(name, "").strip() for name in ("safeguard_reference", "safeguard_date")):
            raise Invalid("safeguard_kind", gettext("choose the kind of safeguard"))
        return None
    try:
        chosen = SafeguardKind(kind)
    except ValueError:
        raise Invalid("safeguard_kind", gettext("adequacy decision or standard contractual clauses")) from None
    on = _date(form, "safeguard_date") if form.get("safeguard_date", "").strip() else None
    return Safeguard(kind=chosen, reference=form.get("safeguard_reference", "").strip() or None, on=on)


def _date(form: MultiDict[str, str], name: str) -> date:
    try:
        return date.fromisoformat(form.get(name, "").strip())
    except ValueError:
        raise Invalid(name, gettext("use a date (2025-01-31)")) from None
