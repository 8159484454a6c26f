"""Compliance pages: retention policies (preview, then change), legal holds (place, release), deletion receipts."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from werkzeug.wrappers import Response

from recordings_service.errors import DomainError, Invalid, NotFound
from recordings_service.models import RetentionPolicy
from recordings_service.models.privacy import PeriodUnit
from recordings_service.permissions import Permission
from recordings_service.privacy import hold_ledger, holds, retention, sweep
from web.access import current_actor, requires
from web.api.validation import next_id_cursor
from web.database import db, runtime
from web.i18n import RULE_LABELS, UNIT_LABELS, organisation_zone
from web.ui.numbers import whole_number
from web.ui.refused_form import RefusedForm, refusal_status, refused_form

bp = Blueprint("retention", __name__, url_prefix="/compliance")
PAGE_SIZE = 50
UNITS = [unit.value for unit in PeriodUnit]


@bp.app_template_filter("period")
def period_label(keep: int | str, unit: str) -> str:
    """A keep period as people say it: "36 months", Finnish "36 kuukautta"; a number not yet checked as typed."""
    count = whole_number(str(keep))
    if count is None or unit not in UNIT_LABELS:
        return f"{keep} {UNIT_LABELS.get(unit, unit)}"
    if unit == PeriodUnit.DAYS:
        return str(ngettext("%(num)d day", "%(num)d days", count))
    return str(ngettext("%(num)d month", "%(num)d months", count))


@bp.get("/")
@requires(Permission.RETENTION_MANAGE)
def policies() -> str:
    return render_template("retention/policies.html", policies=retention.list_policies(db()))


@bp.route("/policies/<rule>", methods=["GET", "POST"])
@requires(Permission.RETENTION_MANAGE)
def policy(rule: str) -> Response | str | tuple[str, int]:
    """GET shows the form; POST previews how many recordings the change would move; nothing changes yet."""
    current = _policy(rule)
    if request.method == "GET":
        return _policy_page(current, {"keep": str(current.keep), "unit": current.unit, "basis": current.basis})
    form = _typed_change()
    try:
        preview = retention.preview_policy_change(
            db(), rule=rule, keep=_keep(form["keep"]), unit=form["unit"], zone=organisation_zone(), basis=form["basis"]
        )
    except DomainError as exc:
        return _policy_page(current, form, refused=refused_form("policy", exc)), refusal_status(exc)
    return _policy_page(current, form, preview=preview)


@bp.post("/policies/<rule>/apply")
@requires(Permission.RETENTION_MANAGE)
def apply_policy(rule: str) -> Response | tuple[str, int]:
    """Make the previewed change: every affected recording's `retain_until` is recomputed (audited).

    A refusal comes back to the policy's page with the change as typed and why, nothing changed."""
    current = _policy(rule)
    form = _typed_change()
    try:
        change = retention.apply_policy_change(
            db(),
            actor=current_actor(),
            rule=rule,
            keep=_keep(form["keep"]),
            unit=form["unit"],
            basis=form["basis"],
            zone=organisation_zone(),
        )
    except DomainError as exc:
        return _policy_page(current, form, refused=refused_form("policy", exc)), refusal_status(exc)
    db().commit()
    label = RULE_LABELS.get(current.rule, current.rule)
    if not change.changed:
        # Applied twice (a double click, the back button) or as it stands: nothing was changed or recorded.
        period = period_label(current.keep, current.unit)
        flash(
            gettext(
                "No change: policy %(rule)s already keeps calls for %(period)s on that basis.",
                rule=label,
                period=period,
            )
        )
        return redirect(url_for("retention.policies"))
    flash(
        ngettext(
            "Policy %(rule)s changed; %(num)d recording recomputed.",
            "Policy %(rule)s changed; %(num)d recordings recomputed.",
            change.recomputed,
            rule=label,
        )
    )
    return redirect(url_for("retention.policies"))


def _typed_change() -> dict[str, str]:
    """A policy change as the form sent it."""
    return {key: request.form.get(key, "").strip() for key in ("keep", "unit", "basis")}


def _policy_page(
    current: RetentionPolicy,
    form: dict[str, str],
    *,
    preview: retention.PolicyPreview | None = None,
    refused: RefusedForm | None = None,
) -> str:
    """The policy's page: its change form filled with `form`, what the change would do (`preview`), or why
    `refused`."""
    return render_template(
        "retention/policy.html", policy=current, units=UNITS, form=form, preview=preview, refused=refused
    )


@bp.get("/holds")
@requires(Permission.RETENTION_MANAGE)
def legal_holds() -> str:
    return _holds_page()


def _holds_page(sent: RefusedForm | None = None) -> str:
    """The holds listed, and the form to place one (as typed, with why, when `sent` was refused)."""
    state = request.args.get("state", "active")
    active = {"active": True, "released": False}.get(state)
    page = holds.browse_holds(
        db(), actor=current_actor(), active=active, cursor=request.args.get("cursor") or None, limit=PAGE_SIZE
    )
    covered = holds.covered_counts(db(), page.items)
    # The listing's audit event is kept before the page shows a ref; a refused form's own work was rolled back
    # already (`refused_form`), so none of it is committed here.
    db().commit()
    return render_template(
        "retention/holds.html", holds=page.items, covered=covered, state=state, older=page.next_cursor, sent=sent
    )


@bp.post("/holds")
@requires(Permission.RETENTION_MANAGE)
def place_hold() -> Response | tuple[str, int]:
    """Hold one recording (by id) or every recording of a customer (by reference); a refusal keeps what was typed."""
    target = request.form.get("target", "")
    value = request.form.get("value", "").strip()
    try:
        if not value:
            raise Invalid("value", gettext("give a recording id or a customer reference"))
        placed = holds.place_hold(
            db(),
            actor=current_actor(),
            reason=request.form.get("reason", ""),
            recording_id=value if target == "recording" else None,
            customer_ref=value if target == "customer" else None,
            known_customer_only=request.form.get("new_customer") != "1",
        )
    except DomainError as exc:
        sent = refused_form("hold", exc)
        # The service names the target by what it is (or says it found no such call); the form has one field for
        # either.
        if sent.field in ("recording_id", "customer_ref") or exc.why in ("recording_not_found", "recording_deleted"):
            sent = replace(sent, field="value")
        return _holds_page(sent), refusal_status(exc)
    db().commit()
    if placed.new:
        hold_ledger.record_hold(db(), runtime().store, placed.hold)
        flash(
            ngettext(
                "Legal hold placed on %(num)d recording.", "Legal hold placed on %(num)d recordings.", placed.recordings
            )
        )
    else:
        # The same form sent twice (a double click, a reload) places one hold.
        flash(gettext("No new hold: this hold, for the same reason, is in force already."))
    return redirect(url_for("retention.legal_holds"))


@bp.post("/holds/<hold_id>/release")
@requires(Permission.RETENTION_MANAGE)
def release_hold(hold_id: str) -> Response | tuple[str, int]:
    """Release a hold; a refusal comes back to the holds page with the reason as typed beside that hold's form."""
    try:
        hold = holds.release_hold(db(), actor=current_actor(), hold_id=hold_id, reason=request.form.get("reason", ""))
        kept = holds.still_held(db(), hold)
    except DomainError as exc:
        sent = refused_form("release", exc)
        # The page has a release form per hold: the hold's id says which one the refusal is beside.
        return _holds_page(replace(sent, values={**sent.values, "hold_id": hold_id})), refusal_status(exc)
    db().commit()
    hold_ledger.record_hold(db(), runtime().store, hold)
    if kept:
        # Released, yet not deletable: another hold (on the call, or on its customer) still keeps them.
        flash(
            ngettext(
                "Legal hold released; %(num)d recording stays held by another hold.",
                "Legal hold released; %(num)d recordings stay held by other holds.",
                kept,
            )
        )
    else:
        flash(gettext("Legal hold released."))
    return redirect(url_for("retention.legal_holds"))


@bp.get("/receipts")
@requires(Permission.RETENTION_MANAGE)
def receipts() -> str:
    rows = sweep.list_receipts(db(), cursor=request.args.get("cursor") or None, limit=PAGE_SIZE + 1)
    page = rows[:PAGE_SIZE]
    return render_template(
        "retention/receipts.html", receipts=page, older=next_id_cursor(rows, PAGE_SIZE, sweep.CURSOR_TAG)
    )


def _policy(rule: str) -> RetentionPolicy:
    found = next((row for row in retention.list_policies(db()) if row.rule == rule), None)
    if found is None:
        raise NotFound(f"no retention policy {rule!r}")
    return found


def _keep(raw: str) -> int:
    keep = whole_number(raw)
    if keep is None:
        raise Invalid("keep", gettext("give a whole number"))
    return keep
