"""The staff dashboard: transcription backlog and failures (re-queue), evaluations, score trend; retention proof."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from recordings_service.db import utcnow
from recordings_service.errors import Conflict
from recordings_service.evaluations import trends
from recordings_service.integrity import latest_run
from recordings_service.models.research import BatchState
from recordings_service.permissions import Permission
from recordings_service.privacy.request_lists import count_overdue_requests
from recordings_service.privacy.subjects import overdue_requests
from recordings_service.privacy.sweep import count_kept_restricted, count_overdue, latest_check
from recordings_service.research.batches import list_batches
from recordings_service.transcription.backlog import model_in_use, transcription_backlog
from recordings_service.transcription.model_files import DEFAULT_MODEL_NAME
from recordings_service.transcription.queue import requeue_transcription
from web.access import current_actor, current_can, requires
from web.database import db, runtime
from web.i18n import organisation_zone
from web.ui.assignments import DASHBOARD_ROWS, dashboard_queue
from web.ui.error_messages import flash_error
from web.ui.evaluations import TREND_WEEKS, trend_chart

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
OVERDUE_BATCHES = 50


@bp.get("")
@requires(Permission.STATUS_VIEW)
def index() -> str:
    now, zone = utcnow(), organisation_zone()
    weeks = trends.weekly_scores(db(), weeks=TREND_WEEKS, now=now, tz=zone)
    return render_template(
        "dashboard/index.html",
        backlog=transcription_backlog(db(), actor=current_actor()),
        model=model_in_use(db(), runtime().settings),
        # The model shipped with Callvault is described in the reader's language (the core names it in English).
        bundled_model=None if runtime().settings.transcribe_model else DEFAULT_MODEL_NAME,
        evaluated_this_week=trends.evaluated_calls_since(db(), since=trends.week_began(now, zone)),
        weeks=weeks,
        chart=trend_chart(weeks, gettext("Weekly average score, all queues")),
        retention=_retention_proof(now),
        assignments=dashboard_queue(),
        integrity={"run": latest_run(db())} if current_can(Permission.AUDIT_READ) else None,
        overdue_requests=_overdue_requests(now),
        overdue_batches=list_batches(db(), states=[BatchState.OVERDUE], limit=OVERDUE_BATCHES)
        if current_can(Permission.RESEARCH_MANAGE)
        else [],
    )


def _overdue_requests(now: datetime) -> dict[str, object] | None:
    """The longest overdue data-subject requests and how many are overdue in all: the rest are on the requests page,
    which lists the open ones nearest deadline first, a page at a time."""
    if not current_can(Permission.SUBJECT_REQUESTS):
        return None
    return {
        "rows": overdue_requests(db(), now=now, limit=DASHBOARD_ROWS),
        "total": count_overdue_requests(db(), now=now),
    }


def _retention_proof(now: datetime) -> dict[str, object] | None:
    """Overdue recordings counted now (an indexed query), those past retention a restriction of processing keeps, and
    the latest recorded check (it lists the store)."""
    if not current_can(Permission.RETENTION_MANAGE):
        return None
    return {
        "overdue": count_overdue(db(), now=now),
        "kept_restricted": count_kept_restricted(db(), now=now),
        "check": latest_check(db()),
    }


@bp.post("/transcriptions/<recording_id>/requeue")
@requires(Permission.TRANSCRIPTION_REQUEUE)
def requeue(recording_id: str) -> Response:
    try:
        requeue_transcription(db(), actor=current_actor(), recording_id=recording_id)
    except Conflict as exc:
        flash_error(exc)
    else:
        db().commit()
        flash(gettext("Transcription queued again."))
    return redirect(url_for("dashboard.index"))
