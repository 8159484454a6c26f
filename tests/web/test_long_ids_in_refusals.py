"""A path id no id has the shape of (longer than 64 characters, say) is refused 404 and the refusal audited without
it: the refusal's own event put the caller's text in `object_id`, a 64-character column, which PostgreSQL refused
(a 500, and no event at all); SQLite kept the text, of any length, in a trail that is never edited.

Found by fuzzing the API on PostgreSQL (an agent's feedback, a partner's package and the like)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM
from tests.factories.evaluations import evaluation_token, make_agent_user
from tests.factories.research import institute, partner

TYPED = "x" * 65


def partner_headers(session: Session) -> dict[str, str]:
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, institute(session).id), scope="partner")
    return {"Authorization": f"Bearer {plain}"}


def agent_headers(session: Session) -> dict[str, str]:
    return evaluation_token(session, make_agent_user(session, "agent-long-ids"))


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", f"/api/v1/research/batches/{TYPED}/package", partner_headers),
        ("POST", f"/api/v1/research/batches/{TYPED}/follow-up/1/acknowledge", partner_headers),
        ("GET", f"/api/v1/feedback/{TYPED}", agent_headers),
        ("POST", f"/api/v1/evaluations/{TYPED}/acknowledge", agent_headers),
    ],
)
def test_a_path_id_of_no_ids_shape_is_refused_and_audited_without_it(
    client: FlaskClient, session: Session, method: str, path: str, headers: object
) -> None:
    sent = headers(session)  # type: ignore[operator]
    session.commit()
    newest = session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)) or 0

    answer = client.open(path, method=method, headers=sent)

    assert answer.status_code == 404, answer.get_data(as_text=True)
    session.expire_all()
    [refused] = session.scalars(select(AuditEvent).where(AuditEvent.seq > newest)).all()
    assert refused.object_id is None and refused.details["withheld"] == "object_id"
    assert TYPED not in str(refused.details)
