"""The evaluation panel of the call page: the call's evaluations, and the form being filled beside the player."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from flask import request
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from recordings_service.errors import Conflict, Invalid
from recordings_service.evaluations import form_versions, history, scoring
from recordings_service.evaluations.history import ListedEvaluation
from recordings_service.evaluations.scoring import Answer
from recordings_service.models import Evaluation, EvaluationForm
from recordings_service.permissions import Permission
from web.access import current_actor, current_can
from web.database import db
from web.ui.numbers import seconds_text, typed_seconds

# What a submit of the panel did, flashed in these categories, is said inside the panel (evaluations/_panel.html),
# in the element the page opens at.
EVALUATION_SAVED = "evaluation"
EVALUATION_ERROR = "evaluation error"
EVALUATION_SAID = "evaluation-said"


@dataclass
class Panel:
    listed: list[ListedEvaluation]
    forms: list[EvaluationForm] = field(default_factory=list)
    form: EvaluationForm | None = None
    evaluation: Evaluation | None = None  # the signed-in evaluator's own, once started
    values: dict[str, str] = field(default_factory=dict)


def evaluation_panel(recording_id: str) -> Panel | None:
    """What the panel shows the signed-in person; None for whoever sees no evaluations of the call."""
    if not (current_can(Permission.EVALUATION_READ) or current_can(Permission.FEEDBACK_RESPOND)):
        return None
    panel = Panel(listed=history.call_evaluations(db(), actor=current_actor(), recording_id=recording_id))
    if not current_can(Permission.EVALUATION_WRITE):
        return panel
    panel.forms = form_versions.forms_to_score(db(), actor=current_actor(), recording_id=recording_id)
    panel.form = _wanted_form(panel.forms, request.args.get("form_id"))
    if panel.form is not None:
        panel.evaluation = scoring.open_evaluation(
            db(), actor=current_actor(), recording_id=recording_id, form_id=panel.form.id
        )
        if panel.evaluation is not None:
            panel.values = values_of(panel.evaluation)
    return panel


def _wanted_form(forms: list[EvaluationForm], form_id: str | None) -> EvaluationForm | None:
    """The form asked for by id (a link, the page a submit comes back to), or the version of its form the evaluator
    scores this call on (asked for by another version's id); else the first form."""
    asked = db().get(EvaluationForm, form_id) if form_id else None
    family = asked.family_id if asked is not None else None
    exact = next((form for form in forms if form.id == form_id), None)
    return exact or next((form for form in forms if form.family_id == family), forms[0] if forms else None)


def values_of(evaluation: Evaluation) -> dict[str, str]:
    """An evaluation as the panel's field values."""
    values = {"comment": evaluation.comment}
    for answer in evaluation.answers:
        values[scoring.answer_field(answer.question_id)] = answer.value
        values[f"comments.{answer.question_id}"] = answer.comment
        values[f"at.{answer.question_id}"] = "" if answer.at_s is None else seconds_text(answer.at_s)
    return values


def answers_from(data: MultiDict[str, str], form: EvaluationForm) -> dict[str, Answer]:
    """The panel's fields as answers, one per question of `form` (empty where nothing was chosen yet)."""
    answers, unreadable = read_answers(data, form)
    if unreadable is not None:
        raise unreadable
    return answers


def read_answers(data: MultiDict[str, str], form: EvaluationForm) -> tuple[dict[str, Answer], Invalid | None]:
    """The panel's fields as answers, and the refusal of the first moment that cannot be read as seconds.

    Such a moment is left out of its answer rather than refusing them all: a refused submit keeps the rest as the
    draft, as its other refusals do."""
    answers: dict[str, Answer] = {}
    unreadable: Invalid | None = None
    for question in form.questions:
        at_s: float | None = None
        try:
            at_s = _seconds(data.get(f"at.{question.id}", ""), f"at.{question.id}")
        except Invalid as exc:
            unreadable = unreadable or exc
        answers[question.id] = Answer(
            value=data.get(scoring.answer_field(question.id), ""),
            comment=data.get(f"comments.{question.id}", ""),
            at_s=at_s,
        )
    return answers, unreadable


def _seconds(raw: str, name: str) -> float | None:
    if not raw.strip():
        return None
    seconds = typed_seconds(raw)
    if seconds is None:
        raise Invalid(name, gettext("give the moment in seconds from the start of the call"))
    return seconds


def keep_as_draft(recording_id: str, form_id: str, answers: dict[str, Answer], comment: str) -> None:
    """What was typed into a refused submit stays as the draft (when the evaluation is still one). A question's moment
    or comment, or the overall comment, that a draft refuses too (past the call's end, too long) is left out of it
    and the rest kept: the whole draft was refused, and every answer typed into the submit lost."""
    for _ in range(2 * len(answers) + 2):  # each question's moment and comment, the overall comment, the last try
        try:
            scoring.save_draft(
                db(),
                actor=current_actor(),
                recording_id=recording_id,
                form_id=form_id,
                answers=answers,
                comment=comment,
            )
        except Invalid as exc:
            db().rollback()
            kind, _, question_id = (exc.field or "").partition(".")
            if kind == "comment" and comment:
                comment = ""
            elif question_id in answers and kind in ("at", "comments"):
                left_out = {"at_s": None} if kind == "at" else {"comment": ""}
                answers = {**answers, question_id: replace(answers[question_id], **left_out)}
            else:
                return
        except Conflict:
            db().rollback()
            return
        else:
            db().commit()
            return
