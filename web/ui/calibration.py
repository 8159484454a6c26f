"""Calibration pages: start a session on a call, score it blind, compare once everyone has submitted."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from recordings_service.errors import Conflict, DomainError, Invalid, NotFound
from recordings_service.evaluations import calibration
from recordings_service.evaluations import forms as evaluation_forms
from recordings_service.evaluations.calibration import CalibrationView
from recordings_service.evaluations.scoring import Answer, answer_field
from recordings_service.permissions import Permission
from web.access import current_actor, requires
from web.api.validation import next_id_cursor
from web.database import db
from web.errors import abandon_refused
from web.ui.error_messages import error_message, flash_error

bp = Blueprint("calibration", __name__, url_prefix="/calibration")
PAGE_SIZE = 50


@bp.get("/")
@requires(Permission.EVALUATION_WRITE)
def index() -> str:
    cursor = request.args.get("cursor") or None
    listed = calibration.list_calibrations(db(), actor=current_actor(), cursor=cursor, limit=PAGE_SIZE + 1)
    return render_template(
        "calibration/index.html",
        listed=listed[:PAGE_SIZE],
        next_cursor=next_id_cursor(listed, PAGE_SIZE, calibration.CURSOR_TAG),
        me=current_actor().id,
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.EVALUATION_WRITE)
def new() -> Response | str | tuple[str, int]:
    values = request.form if request.method == "POST" else request.args
    if request.method == "GET":
        return _new_page(values)
    try:
        created = calibration.create_calibration(
            db(),
            actor=current_actor(),
            recording_id=values.get("recording_id", "").strip(),
            form_id=values.get("form_id", ""),
            participant_ids=values.getlist("participant_ids"),
            title=values.get("title", ""),
        )
    except (Invalid, NotFound) as exc:
        abandon_refused(exc)
        return _new_page(values, error=exc), 422
    db().commit()
    flash(gettext("Calibration session created."))
    return redirect(url_for("calibration.session", calibration_id=created.id))


def _new_page(values: object, *, error: DomainError | None = None) -> str:
    return render_template(
        "calibration/new.html",
        values=values,
        forms=evaluation_forms.current_forms(db()),
        people=calibration.eligible_participants(db()),
        invalid=error_message(error) if error else None,
        field=error.field if error else None,
    )


@bp.get("/<calibration_id>")
@requires(Permission.EVALUATION_WRITE)
def session(calibration_id: str) -> str:
    return _session_page(calibration.view_calibration(db(), actor=current_actor(), calibration_id=calibration_id))


@bp.post("/<calibration_id>/scores")
@requires(Permission.EVALUATION_WRITE)
def submit(calibration_id: str) -> Response | tuple[str, int]:
    view = calibration.view_calibration(db(), actor=current_actor(), calibration_id=calibration_id)
    answers = {
        question.id: Answer(
            value=request.form.get(answer_field(question.id), ""),
            comment=request.form.get(f"comments.{question.id}", ""),
        )
        for question in view.calibration.form.questions
    }
    try:
        calibration.submit_scores(
            db(),
            actor=current_actor(),
            calibration_id=calibration_id,
            answers=answers,
            comment=request.form.get("comment", ""),
        )
    except Invalid as exc:
        db().rollback()
        view = calibration.view_calibration(db(), actor=current_actor(), calibration_id=calibration_id)
        return _session_page(view, values=request.form, error=exc), 422
    except Conflict as exc:  # closed meanwhile, or sent twice (a second tab): the page says so, as it is now
        return _back_to_session(calibration_id, exc)
    db().commit()
    flash(gettext("Your scores are submitted."))
    return redirect(url_for("calibration.session", calibration_id=calibration_id))


@bp.post("/<calibration_id>/close")
@requires(Permission.EVALUATION_WRITE)
def close(calibration_id: str) -> Response:
    try:
        calibration.close_calibration(db(), actor=current_actor(), calibration_id=calibration_id)
    except Conflict as exc:  # closed already (a second tab, or a double click)
        return _back_to_session(calibration_id, exc)
    db().commit()
    flash(gettext("Session closed; the scores submitted so far are shown."))
    return redirect(url_for("calibration.session", calibration_id=calibration_id))


def _back_to_session(calibration_id: str, exc: Conflict) -> Response:
    db().rollback()
    flash_error(exc)
    return redirect(url_for("calibration.session", calibration_id=calibration_id))


def _session_page(view: CalibrationView, *, values: object = None, error: Invalid | None = None) -> str:
    return render_template(
        "calibration/session.html",
        view=view,
        found=view.calibration,
        form=view.calibration.form,
        organiser=view.calibration.organiser_id == current_actor().id,
        values=values or {},
        invalid=error_message(error) if error else None,
        field=error.field if error else None,
    )
