"""A refused retry of a batch's build is on the batch's trail, as every other refused decision on a batch is.

Found by exploratory testing: "Retry the build" sent from a page open since the build succeeded (or by a second
officer after the first retried) was refused with a message, but nothing was audited."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import User
from recordings_service.runtime import Runtime
from tests.factories.accounts import post_form
from tests.factories.audit import events
from tests.factories.research import as_ready, draft, institute


def test_a_refused_retry_is_audited_and_changes_nothing(
    officer_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    made = as_ready(draft(session, runtime, officer, institute(session).id))
    session.commit()
    page = f"/research/batches/{made.id}"

    answer = post_form(officer_client, f"{page}/retry", {}, token_from=page)

    assert answer.status_code == 302 and answer.headers["Location"] == page
    assert "only a build that failed can be retried" in officer_client.get(page).get_data(as_text=True)
    [refused] = events(session, "research.build_retry_refused", made.id)
    assert (refused.actor_id, refused.details) == (officer.id, {"rule": "not_failed"})
    assert events(session, "research.build_retried", made.id) == []
    session.refresh(made)
    assert made.state == "ready"
