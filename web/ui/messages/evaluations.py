"""Refusals of evaluating calls: assignments, plans, scoring (the panel beside the player, calibration sessions)
and feedback to agents. The form builder's are in form_builder.py."""

from __future__ import annotations

import math

from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l

from recordings_service.errors import DomainError
from recordings_service.evaluations import calibration, plans
from recordings_service.evaluations.comments import MAX_COMMENT_CHARS
from web.i18n import form_text
from web.ui.message_values import Message, naming

_answer_required = naming(
    lambda values: gettext("answer required: %(question)s", question=form_text(values["question"]))
)
_answer_choice = naming(
    lambda values: gettext("choose one of the answers offered: %(question)s", question=form_text(values["question"]))
)


def _evidence_moment(exc: DomainError) -> str:
    if "duration_s" not in exc.values:
        return str(gettext("enter a moment of the call in seconds"))
    # Down to the tenth the field takes: rounded up, the last moment named (23.7 of a 23.68 s call) was refused too.
    seconds = format_decimal(math.floor(exc.values["duration_s"] * 10) / 10, format="0.0")
    return str(gettext("enter a moment of the call, 0 to %(duration)s seconds", duration=seconds))


FIELD_MESSAGES: dict[tuple[str, str], Message] = {
    ("assignee_id", "unknown_user"): _l("Choose a supervisor from the list."),
    ("assignee_id", "not_evaluator"): _l("That person cannot evaluate calls."),
    ("due", "due_passed"): _l("the due date has passed: choose today or a later day"),
    ("due", "due_too_far"): _l("a due date is at most a year ahead"),
    ("assignee_id", "same_assignee"): _l("The call is on that person's list already: choose another."),
    ("assignee_id", "not_visible"): _l("That person may not open this call."),
    # Evaluation plans; a seed is drawn when the field is left empty.
    ("calls_per_agent", "out_of_range"): _l(
        "enter a number from %(min)d to %(max)d", min=1, max=plans.MAX_CALLS_PER_AGENT
    ),
    ("seed", "out_of_range"): _l("the seed is too large: use at most 18 digits, or leave it empty to draw one"),
    ("queue", "missing"): _l("name a queue or an agent"),
    ("supervisor_ids", "missing"): _l("choose at least one supervisor"),
    ("supervisor_ids", "unknown_user"): _l("An account chosen is gone: choose the supervisors again."),
    ("supervisor_ids", "not_evaluator"): _l("A person chosen can no longer evaluate calls: choose another."),
    # Feedback: an agent's answer to an evaluation, and the resolution of a dispute.
    ("comment", "required"): _l("say what you dispute, and why"),
    ("comment", "too_long"): _l("at most %(num)d characters", num=MAX_COMMENT_CHARS),
    ("note", "required"): _l("say how the dispute was resolved"),
    ("comment", "no_rescore"): _l("a new overall comment comes with a re-score: answer the questions too"),
}
CODE_MESSAGES: dict[str, Message] = {
    "answer_required": _answer_required,
    "answer_choice": _answer_choice,
    "not_on_form": _l("this question is not on the form"),
    "later_form_version": _l("a later version of this form exists: edit that version instead"),
    "call_deleted": _l("the call has been deleted: nothing new is written about it"),
    "evidence_moment": _evidence_moment,
    "comment_too_long": _l("at most %(num)d characters", num=MAX_COMMENT_CHARS),
    "not_submitted": _l("submit the evaluation before releasing it"),
    "already_released": _l("this evaluation has been released already"),
    "already_answered": _l("this evaluation has been answered already"),
    "rescored_since_read": _l(
        "the evaluator has changed this evaluation since you opened it: read it again as it is now, then answer"
    ),
    "no_open_dispute": _l("this evaluation has no open dispute"),
    "evaluation_submitted": _l(
        "this evaluation has been submitted meanwhile: open the call again to make a new version of it"
    ),
    "calibration_closed": _l("this calibration session is closed"),
    "calibration_title_too_long": _l("a title has at most %(num)d characters", num=calibration.MAX_TITLE_CHARS),
    "calibration_form_unknown": _l("choose a form from the list"),
    "calibration_form_unpublished": _l("only a published form can be used: choose another"),
    "calibration_form_superseded": _l("a newer version of this form is published: choose it"),
    "form_superseded": _l("a newer version of this form is published: reload the page to score on it"),
    "evaluated_on_another_version": _l(
        "you evaluated this call on another version of this form: reload the page to open it"
    ),
    "calibration_participant_count": _l(
        "choose %(min)d to %(max)d different participants",
        min=calibration.MIN_PARTICIPANTS,
        max=calibration.MAX_PARTICIPANTS,
    ),
    "calibration_participant_inactive": _l("a chosen participant's account is no longer active: choose another"),
    "calibration_participant_not_evaluator": naming(
        lambda values: gettext("%(name)s may not score calls: choose another", name=values["username"])
    ),
    "calibration_participant_not_visible": naming(
        lambda values: gettext("%(name)s may not open this call: choose another", name=values["username"])
    ),
    "calibration_submitted": _l("you have already submitted your scores for this session"),
    "dispute_open": _l("the agent disputes this evaluation: resolve the dispute, with a re-score if it was wrong"),
    "resolution_too_long": _l("at most %(num)d characters", num=MAX_COMMENT_CHARS),
    "assignment_done": _l("this call has been evaluated: the assignment is done and stays with its supervisor"),
    "already_assigned": _l("that person has this call on their list already"),
    "held_by_another": naming(
        lambda values: gettext(
            "Call %(call)s is on %(name)s's list already, not yet evaluated: nothing was assigned. To give it to "
            "someone else, choose %(name)s on the To evaluate page and Reassign it there.",
            call=values["recording_id"],
            name=values["holder"],
        )
    ),
    "no_dispute_lead": _l(
        "nobody can answer a dispute of this evaluation now: its evaluator has left and has no active lead; "
        "ask an administrator to name one"
    ),
    "invisible_in_name": _l(
        "a queue or agent is one line of visible text, as calls carry it: remove the invisible character copied with "
        "it (a line break, a tab, a space of no width)"
    ),
    "no_plan_evaluator": _l("none of the plan's supervisors can evaluate calls now: choose others"),
}
