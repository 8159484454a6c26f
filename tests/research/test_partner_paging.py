"""A partner's script pages through its institute's batches: found by exploratory testing, the list answered at
most 200 batches with `next_cursor` always null and took no `cursor` or `limit`, so an institute with more batches
could not reach its oldest ones (those whose custody is most likely still owed). Now `limit` and `cursor` page
it to the end, and a cursor the API did not hand out is 422 naming it."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.research import as_ready, draft, institute, partner, research_call

LIST = "/api/v1/research/partner/batches"


def test_a_partner_pages_through_every_batch_of_its_institute(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    ours, theirs = institute(session), institute(session)
    creator = make_user(session, role=Role.COMPLIANCE)
    mine = {as_ready(draft(session, runtime, creator, ours.id, study=f"Study {n}")).id for n in range(5)}
    as_ready(draft(session, runtime, creator, theirs.id))
    draft(session, runtime, creator, ours.id, study="Still a draft")
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, ours.id), scope="partner")
    session.commit()
    lab = {"Authorization": f"Bearer {plain}"}

    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        page = client.get(f"{LIST}?limit=2{cursor}", headers=lab)
        assert page.status_code == 200, page.json
        assert len(page.json["items"]) <= 2
        seen += [item["id"] for item in page.json["items"]]
        if page.json["next_cursor"] is None:
            break
        cursor = f"&cursor={page.json['next_cursor']}"

    assert len(seen) == len(set(seen)) and set(seen) == mine
    assert seen == sorted(seen, reverse=True)  # newest first
    assert len(client.get(LIST, headers=lab).json["items"]) == 5  # without a limit, a page of up to 200

    broken = client.get(f"{LIST}?cursor=not-a-cursor", headers=lab)
    assert broken.status_code == 422 and broken.json["field"] == "cursor"
    too_many = client.get(f"{LIST}?limit=201", headers=lab)
    assert too_many.status_code == 422 and too_many.json["field"] == "limit"
