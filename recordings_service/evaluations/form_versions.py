"""Which version of a form an evaluator scores a call on: a new evaluation on the newest published version, and
the evaluator's one evaluation of a call per form family, continued on the version it began on.

A form's new version used to leave evaluators on the old one stranded: the call page offered only the newest
version, so a draft begun on the old one could not be finished and a score given again made a second evaluation of
the call, counted in results beside the first; and the API took new evaluations on a superseded version."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from recordings_service.audit import Actor
from recordings_service.errors import Conflict, Invalid
from recordings_service.evaluations.forms import current_forms, replaced_by
from recordings_service.models import Evaluation, EvaluationForm, Recording


def forms_to_score(session: Session, *, actor: Actor, recording_id: str) -> list[EvaluationForm]:
    """The forms `actor` scores this call on: each family's current form, or the version of it they evaluated the
    call on already (their draft to finish, their score to revise). Offered only the newest version, a supervisor
    whose evaluation was on an older one could neither reopen it nor finish its draft, and a score given again made
    a second evaluation of the call, which counted beside the first."""
    begun = {
        evaluation.form.family_id: evaluation.form
        for evaluation in session.scalars(
            select(Evaluation)
            .where(Evaluation.recording_id == recording_id, Evaluation.evaluator_id == actor.id)
            .options(selectinload(Evaluation.form))
        )
    }
    return [begun.get(form.family_id, form) for form in current_forms(session)]


def refuse_another_version(session: Session, *, actor: Actor, recording: Recording, form: EvaluationForm) -> None:
    """A new evaluation is on the family's newest published version, and the evaluator's one of the call per family:
    a score on a superseded version counted in results as any, and one on the new version beside the evaluator's
    on the old counted twice."""
    other = session.scalar(
        select(Evaluation)
        .join(EvaluationForm, EvaluationForm.id == Evaluation.form_id)
        .where(
            Evaluation.recording_id == recording.id,
            Evaluation.evaluator_id == actor.id,
            EvaluationForm.family_id == form.family_id,
        )
        .limit(1)
    )
    if other is not None:
        raise Conflict(
            f"you evaluated this call on another version of this form: update evaluation {other.id}",
            why="evaluated_on_another_version",
        )
    newer = replaced_by(session, form)
    if newer is not None:
        raise Invalid(
            "form_id",
            f"version {form.version} of this form was replaced by version {newer}: evaluate on that one",
            code="form_superseded",
            why="form_superseded",
        )
