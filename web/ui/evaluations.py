"""Evaluation pages: the form builder, scoring a call, the evaluations list, an agent's evaluations, score trends."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from recordings_service.errors import Conflict, Invalid
from recordings_service.evaluations import feedback, handover, history, lookup, scoring, trends
from recordings_service.evaluations import forms as evaluation_forms  # the `forms` view below takes the plain name
from recordings_service.evaluations.forms import FormSpec, QuestionSpec, SectionSpec
from recordings_service.evaluations.trends import WeekScore
from recordings_service.models import Evaluation, EvaluationForm
from recordings_service.models.evaluation import AnswerType
from recordings_service.permissions import Permission
from recordings_service.recordings import get_playable_recording
from web.access import current_actor, requires
from web.database import db
from web.errors import abandon_refused, error_response
from web.i18n import decimal, organisation_zone, week_label
from web.ui import charts
from web.ui.error_messages import error_message, flash_error
from web.ui.evaluation_panel import (
    EVALUATION_ERROR,
    EVALUATION_SAID,
    EVALUATION_SAVED,
    answers_from,
    keep_as_draft,
    read_answers,
    values_of,
)
from web.ui.numbers import whole_number
from web.ui.refused_form import RefusedForm

bp = Blueprint("evaluations", __name__)
TREND_WEEKS = 12
PAGE_SIZE = 50
# Indices in the builder's field names ("sections[3].questions[12].text"); three digits bound the work.
# ASCII: `\d` alone also matches other scripts' digits ("٣"), which `int` reads.
_FIELD = re.compile(
    r"sections\[(\d{1,3})\](?:\.questions\[(\d{1,3})\])?\.(title|text|weight|answer_type|critical)", re.ASCII
)
_BLANK_ROWS = re.compile(r"sections\[(\d{1,3})\]\.blank_rows", re.ASCII)
MAX_BLANK_ROWS = 50


# ---------------------------------------------------------------- form builder


@bp.get("/forms")
@requires(Permission.FORM_MANAGE)
def forms() -> str:
    return render_template("evaluations/forms.html", forms=evaluation_forms.list_forms(db()))


@bp.route("/forms/new", methods=["GET", "POST"])
@requires(Permission.FORM_MANAGE)
def new_form() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return _builder(FormSpec(name=""), form=None)
    spec = parse_form_spec(request.form)
    if "add_question" in request.form:
        return _builder(spec, form=None, blank_rows=_blank_rows(request.form))
    try:
        created = evaluation_forms.create_form(db(), actor=current_actor(), spec=spec)
    except Invalid as exc:
        return _builder(spec, form=None, error=exc), 422
    db().commit()
    flash(gettext("Form saved as a draft."))
    return redirect(url_for("evaluations.form", form_id=created.id))


@bp.get("/forms/<form_id>")
@requires(Permission.FORM_MANAGE)
def form(form_id: str) -> str:
    found = evaluation_forms.get_form(db(), form_id)
    return render_template("evaluations/form.html", form=found, latest=evaluation_forms.latest_version(db(), found))


@bp.route("/forms/<form_id>/edit", methods=["GET", "POST"])
@requires(Permission.FORM_MANAGE)
def edit_form(form_id: str) -> Response | str | tuple[str, int]:
    current = evaluation_forms.get_form(db(), form_id)
    if request.method == "GET":
        return _builder(FormSpec.of(current), form=current)
    spec = parse_form_spec(request.form)
    if "add_question" in request.form:
        return _builder(spec, form=current, blank_rows=_blank_rows(request.form))
    try:
        saved = evaluation_forms.edit_form(db(), actor=current_actor(), form_id=form_id, spec=spec)
    except Invalid as exc:
        return _builder(spec, form=current, error=exc), 422
    except Conflict as exc:
        if exc.why != "later_form_version":
            raise
        # A later version was made meanwhile (or this page was an old one): what was typed stays, with the reason.
        db().rollback()
        later = gettext(
            "Version %(version)s of this form exists: edit that version instead.", version=exc.values["version"]
        )
        return _builder(spec, form=current, message=later), 409
    db().commit()
    if saved.id == form_id:
        flash(gettext("Draft saved."))
    else:
        flash(gettext("Saved as version %(version)s, a draft: publish it to use it.", version=saved.version))
    return redirect(url_for("evaluations.form", form_id=saved.id))


@bp.post("/forms/<form_id>/publish")
@requires(Permission.FORM_MANAGE)
def publish_form(form_id: str) -> Response:
    """Publish the draft and come back to its page, saying so; published already (a second click, another admin's
    publishing first), the page says that, where a bare error page in English did."""
    try:
        published = evaluation_forms.publish_form(db(), actor=current_actor(), form_id=form_id)
    except Conflict as exc:
        abandon_refused(exc)
        flash_error(exc)
        return redirect(url_for("evaluations.form", form_id=form_id))
    db().commit()
    flash(gettext("Version %(version)s published.", version=published.version))
    return redirect(url_for("evaluations.form", form_id=form_id))


def parse_form_spec(data: MultiDict[str, str]) -> FormSpec:
    """The builder's fields as a spec; rows left blank are dropped, so indices follow the kept rows."""
    titles: dict[int, str] = {}
    rows: dict[int, dict[int, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for key, value in data.items():
        match = _FIELD.fullmatch(key)
        if match is None:
            continue
        section, question, attribute = int(match[1]), match[2], match[3]
        if question is None:
            titles[section] = value if attribute == "title" else titles.get(section, "")
        else:
            rows[section][int(question)][attribute] = value
    sections = []
    for index in sorted(titles.keys() | rows.keys()):
        questions = tuple(
            QuestionSpec(
                text=row.get("text", ""),
                weight=_number(row.get("weight", "1")),
                answer_type=row.get("answer_type", AnswerType.YES_NO_NA),
                critical="critical" in row,
            )
            for _, row in sorted(rows[index].items())
            if row.get("text", "").strip()
        )
        title = titles.get(index, "")
        if title.strip() or questions:
            sections.append(SectionSpec(title=title, questions=questions))
    return FormSpec(name=data.get("name", ""), description=data.get("description", ""), sections=tuple(sections))


def _number(raw: str) -> float:
    """A weight as typed; anything unreadable becomes NaN, which validation refuses with the field named."""
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        return math.nan


def _blank_rows(data: MultiDict[str, str]) -> dict[int, int]:
    """How many empty question rows each section showed, with one more where the editor asked for it."""
    rows: dict[int, int] = {}
    for key, value in data.items():
        match = _BLANK_ROWS.fullmatch(key)
        count = whole_number(value)
        if match is not None and count is not None:
            rows[int(match[1])] = count
    added = whole_number(data.get("add_question"))
    if added is not None:
        rows[added] = rows.get(added, 0) + 1
    return {section: min(count, MAX_BLANK_ROWS) for section, count in rows.items()}


def _builder(
    spec: FormSpec,
    *,
    form: EvaluationForm | None,
    error: Invalid | None = None,
    message: str | None = None,
    blank_rows: dict[int, int] | None = None,
) -> str:
    return render_template(
        "evaluations/form_edit.html",
        spec=spec,
        form=form,
        blank_rows=blank_rows or {},
        answer_types=[(AnswerType.YES_NO_NA, gettext("Yes / No / N/A")), (AnswerType.SCALE_1_5, gettext("Scale 1–5"))],
        invalid=error_message(error) if error else message,
        field=error.field if error else None,
    )


# ---------------------------------------------------------------- evaluating a call


@bp.get("/calls/<recording_id>/evaluate")
@requires(Permission.EVALUATION_WRITE)
def evaluate(recording_id: str) -> Response:
    """The old scoring page: the form is now a panel on the call page, beside the player."""
    get_playable_recording(db(), actor=current_actor(), recording_id=recording_id, audio=False)
    form_id = request.args.get("form_id") or None
    return redirect(url_for("call_page.call", recording_id=recording_id, form_id=form_id, _anchor="evaluation"))


@bp.post("/calls/<recording_id>/evaluation")
@requires(Permission.EVALUATION_WRITE)
def submit_evaluation(recording_id: str) -> Response:
    """Submit the panel: version 1 of a new evaluation, or the next version of one already submitted."""
    # The call first: one hidden from the actor is not found (and the refusal audited), whatever the form says.
    get_playable_recording(db(), actor=current_actor(), recording_id=recording_id, audio=False)
    form = evaluation_forms.get_form(db(), request.form.get("form_id", ""))
    # What the submit did is said in the panel, and the page opens at it (call_page.js focuses it): said at the top
    # of the page, it was out of view of a keyboard user, whose focus was left on the page's start.
    back = url_for("call_page.call", recording_id=recording_id, form_id=form.id, _anchor=EVALUATION_SAID)
    answers, unreadable = read_answers(request.form, form)
    comment = request.form.get("comment", "")
    try:
        if unreadable is not None:
            raise unreadable
        evaluation = scoring.evaluate_call(
            db(), actor=current_actor(), recording_id=recording_id, form_id=form.id, answers=answers, comment=comment
        )
    except Invalid as exc:
        db().rollback()
        keep_as_draft(recording_id, form.id, answers, comment)
        flash(error_message(exc), EVALUATION_ERROR)
        return redirect(back)
    except Conflict as exc:  # the agent disputes it: resolving is the way to re-score
        db().rollback()
        flash(error_message(exc), EVALUATION_ERROR)
        return redirect(back)
    # A lead may have handed the evaluator's assignment of the call on meanwhile: this evaluation did not complete it.
    taker = handover.handed_on_from(db(), recording_id=recording_id, evaluator_id=evaluation.evaluator_id)
    db().commit()
    if evaluation.score is None:
        flash(gettext("Evaluation saved; every question was N/A, so it has no score."), EVALUATION_SAVED)
    else:
        flash(gettext("Evaluation saved: %(score)s / 100.", score=decimal(evaluation.score)), EVALUATION_SAVED)
    if taker is not None:
        flash(
            gettext(
                "This call's assignment had been handed on to %(name)s: your evaluation is kept as your own, and "
                "the call stays open on their list.",
                name=taker.display_name or taker.username,
            ),
            EVALUATION_SAVED,
        )
    return redirect(back)


@bp.post("/calls/<recording_id>/evaluation/draft")
@requires(Permission.EVALUATION_WRITE)
def save_draft(recording_id: str) -> Response:
    """The panel saving itself as the evaluator goes (JSON for its script, which shows a refusal's message: in the
    page's language, where the service's English words followed the page's own); a draft never counts in results."""
    get_playable_recording(db(), actor=current_actor(), recording_id=recording_id, audio=False)
    form = evaluation_forms.get_form(db(), request.form.get("form_id", ""))
    try:
        draft = scoring.save_draft(
            db(),
            actor=current_actor(),
            recording_id=recording_id,
            form_id=form.id,
            answers=answers_from(request.form, form),
            comment=request.form.get("comment", ""),
        )
    except Invalid as exc:
        abandon_refused(exc)
        return error_response(422, exc.code, error_message(exc), exc.field)
    except Conflict as exc:  # submitted meanwhile (another tab): said in the page's language, as a refusal is
        abandon_refused(exc)
        return error_response(409, exc.code, error_message(exc))
    db().commit()
    return jsonify(
        {"id": draft.id, "state": draft.state, "saved_at": draft.updated_at.isoformat() if draft.updated_at else None}
    )


@bp.get("/evaluations/")
@requires(Permission.EVALUATION_READ)
def evaluation_list() -> str:
    cursor = request.args.get("cursor") or None
    page = history.list_evaluations(db(), actor=current_actor(), cursor=cursor, limit=PAGE_SIZE)
    deleted = feedback.deleted_calls(db(), evaluations=[item.evaluation for item in page.items])
    return render_template(
        "evaluations/list.html", listed=page.items, next_cursor=page.next_cursor, deleted_calls=deleted
    )


@bp.get("/evaluations/<evaluation_id>")
@requires(Permission.EVALUATION_READ)
def evaluation(evaluation_id: str) -> str:
    return evaluation_page(evaluation_id)


def evaluation_page(evaluation_id: str, *, refused: RefusedForm | None = None) -> str:
    """The page; with `refused`, the dispute's resolution sent back as it was typed (note and re-score answers)."""
    return _render(lookup.get_evaluation(db(), actor=current_actor(), evaluation_id=evaluation_id), refused=refused)


def deleted_call_page(evaluation_id: str, page: Callable[[str], str]) -> tuple[str, int]:
    """A form posted from a page read before the evaluation's call was deleted (acknowledge, dispute, release,
    resolve; `lookup.CallDeleted`): that `page` again, saying so, without the forms (409)."""
    db().rollback()
    return page(evaluation_id), 409


def _render(found: Evaluation, *, refused: RefusedForm | None = None) -> str:
    return render_template(
        "evaluations/evaluation.html",
        evaluation=found,
        answers={a.question_id: a for a in found.answers},
        values=refused.values if refused is not None else values_of(found),
        may_resolve=feedback.may_resolve(db(), actor=current_actor(), evaluation=found),
        # A deleted call can no longer be played, and nothing new is written about it: no link, no release, no
        # resolution (each would be refused).
        call_deleted=bool(feedback.deleted_calls(db(), evaluations=[found])),
        refused=refused,
    )


# ---------------------------------------------------------------- agents and queues


@bp.get("/agents/<path:agent_ref>")
@requires(Permission.EVALUATION_READ)
def agent(agent_ref: str) -> str:
    listed = history.agent_evaluations(db(), actor=current_actor(), agent_ref=agent_ref)
    weeks = trends.weekly_scores(db(), weeks=TREND_WEEKS, agent_ref=agent_ref, tz=organisation_zone())
    title = gettext("Weekly average score of agent %(agent)s", agent=agent_ref)
    return render_template(
        "evaluations/agent.html",
        agent_ref=agent_ref,
        evaluations=listed,
        deleted_calls=feedback.deleted_calls(db(), evaluations=listed),
        weeks=weeks,
        chart=trend_chart(weeks, title),
        breakdown=charts.breakdown(agent_ref=agent_ref, weeks=TREND_WEEKS),
    )


@bp.get("/queues")
@requires(Permission.EVALUATION_READ)
def queues() -> str:
    weeks = trends.weekly_scores(db(), weeks=TREND_WEEKS, tz=organisation_zone())
    chart = trend_chart(weeks, gettext("Weekly average score, all queues"))
    return render_template(
        "evaluations/queues.html",
        queues=trends.queues_evaluated(db()),
        weeks=weeks,
        chart=chart,
        breakdown=charts.breakdown(weeks=TREND_WEEKS),
    )


@bp.get("/queues/<path:queue>")
@requires(Permission.EVALUATION_READ)
def queue(queue: str) -> str:
    weeks = trends.weekly_scores(db(), weeks=TREND_WEEKS, queue=queue, tz=organisation_zone())
    chart = trend_chart(weeks, gettext("Weekly average score of queue %(queue)s", queue=queue))
    return render_template(
        "evaluations/queue.html",
        queue=queue,
        weeks=weeks,
        chart=chart,
        breakdown=charts.breakdown(queue=queue, weeks=TREND_WEEKS),
    )


def trend_chart(weeks: list[WeekScore], title: str, *, chart_id: str = "trend") -> Markup:
    """The weekly average as a chart; pages also show the same numbers as a table."""
    points = [(week_label(week.week_start), week.average) for week in weeks]
    description = charts.describe(points, no_data=gettext("no evaluations"))
    return charts.line_chart(chart_id=chart_id, title=title, description=description, points=points)
