"""Feedback to agents: release an evaluation, the agent's "My feedback" pages (acknowledge, dispute), and the
disputes queue where evaluators and their leads resolve disputes."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from recordings_service.errors import Conflict, Invalid
from recordings_service.evaluations import feedback, lookup
from recordings_service.permissions import Permission
from web.access import current_actor, requires
from web.database import db
from web.ui.error_messages import flash_error
from web.ui.evaluation_panel import answers_from
from web.ui.evaluations import PAGE_SIZE, deleted_call_page, evaluation_page
from web.ui.refused_form import RefusedForm, refusal_status, refused_form

bp = Blueprint("feedback", __name__)


@bp.get("/feedback/")
@requires(Permission.FEEDBACK_RESPOND)
def index() -> str:
    """My feedback, PAGE_SIZE evaluations a page, newest released first; "Earlier feedback" pages on by cursor."""
    found = feedback.my_feedback(db(), actor=current_actor(), cursor=request.args.get("cursor"), limit=PAGE_SIZE + 1)
    shown = found[:PAGE_SIZE]
    return render_template(
        "evaluations/feedback_list.html",
        evaluations=shown,
        deleted_calls=feedback.deleted_calls(db(), evaluations=shown),
        next_cursor=feedback.feedback_cursor(shown[-1]) if len(found) > PAGE_SIZE else None,
        later_pages=bool(request.args.get("cursor")),
    )


@bp.get("/feedback/<evaluation_id>")
@requires(Permission.FEEDBACK_RESPOND)
def evaluation(evaluation_id: str) -> str:
    return _feedback_page(evaluation_id)


def _feedback_page(evaluation_id: str, *, refused: RefusedForm | None = None) -> str:
    """The page; with `refused`, the answer sent back as it was typed with the reason beside it."""
    found = feedback.get_feedback(db(), actor=current_actor(), evaluation_id=evaluation_id)
    db().commit()
    return render_template(
        "evaluations/feedback.html",
        evaluation=found,
        answers={a.question_id: a for a in found.answers},
        call_deleted=bool(feedback.deleted_calls(db(), evaluations=[found])),
        refused=refused,
    )


@bp.post("/feedback/<evaluation_id>/acknowledge")
@requires(Permission.FEEDBACK_RESPOND)
def acknowledge(evaluation_id: str) -> Response | tuple[str, int]:
    return _respond(evaluation_id, dispute=False)


@bp.post("/feedback/<evaluation_id>/dispute")
@requires(Permission.FEEDBACK_RESPOND)
def dispute(evaluation_id: str) -> Response | tuple[str, int]:
    return _respond(evaluation_id, dispute=True)


def _respond(evaluation_id: str, *, dispute: bool) -> Response | tuple[str, int]:
    comment = request.form.get("comment", "")
    answer = feedback.dispute if dispute else feedback.acknowledge
    try:
        answer(
            db(),
            actor=current_actor(),
            evaluation_id=evaluation_id,
            comment=comment,
            version=request.form.get("version", type=int),  # the page's: what the agent read
        )
    except lookup.CallDeleted:  # the page was read before the call was deleted: it comes back saying so
        return deleted_call_page(evaluation_id, _feedback_page)
    except (Invalid, Conflict) as exc:
        refused = refused_form("dispute" if dispute else "acknowledge", exc)
        return _feedback_page(evaluation_id, refused=refused), refusal_status(exc)
    db().commit()
    flash(gettext("Dispute sent to the evaluator.") if dispute else gettext("Evaluation acknowledged."))
    return redirect(url_for("feedback.evaluation", evaluation_id=evaluation_id))


@bp.post("/evaluations/<evaluation_id>/release")
@requires(Permission.EVALUATION_WRITE)
def release(evaluation_id: str) -> Response | tuple[str, int]:
    try:
        feedback.release_evaluation(db(), actor=current_actor(), evaluation_id=evaluation_id)
    except lookup.CallDeleted:  # the page was read before the call was deleted: it comes back saying so
        return deleted_call_page(evaluation_id, evaluation_page)
    except Conflict as exc:
        db().rollback()
        flash_error(exc)
    else:
        db().commit()
        flash(gettext("Released to the agent."))
    return redirect(url_for("evaluations.evaluation", evaluation_id=evaluation_id))


@bp.get("/disputes")
@requires(Permission.EVALUATION_WRITE)
def disputes() -> str:
    return render_template("evaluations/disputes.html", disputes=feedback.dispute_queue(db(), actor=current_actor()))


@bp.post("/evaluations/<evaluation_id>/resolve")
@requires(Permission.EVALUATION_WRITE)
def resolve(evaluation_id: str) -> Response | tuple[str, int]:
    """Resolve a dispute with a note; with "rescore" ticked, the answers given score a new version.

    Refused, the evaluation's page comes back with the note and the re-score answers as they were typed."""
    try:
        answers = None
        if request.form.get("rescore"):
            found = lookup.get_evaluation(db(), actor=current_actor(), evaluation_id=evaluation_id)
            answers = answers_from(request.form, found.form)
        feedback.resolve_dispute(
            db(), actor=current_actor(), evaluation_id=evaluation_id, note=request.form.get("note", ""), answers=answers
        )
    except lookup.CallDeleted:  # the page was read before the call was deleted: it comes back saying so
        return deleted_call_page(evaluation_id, evaluation_page)
    except (Invalid, Conflict) as exc:
        refused = refused_form("resolve", exc)
        return evaluation_page(evaluation_id, refused=refused), refusal_status(exc)
    db().commit()
    flash(gettext("Dispute resolved."))
    return redirect(url_for("evaluations.evaluation", evaluation_id=evaluation_id))
