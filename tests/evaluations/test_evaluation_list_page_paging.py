"""The evaluations page's "Older evaluations" link, whose cursor is the API list's since 2026-12-08: followed to the
end it shows each evaluation once, and the last page offers no older one (it was offered after any full page)."""

from __future__ import annotations

import re
import secrets

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of, published_form, scored_call
from web.ui.evaluations import PAGE_SIZE

NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
SCORE_LINK = re.compile(r'href="/evaluations/([0-9A-Z]{26})"')


def test_older_evaluations_pages_to_the_end_showing_each_once(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    form = published_form(session, actor_of(supervisor))
    queue = f"pages-{secrets.token_hex(4)}"
    made = {"session": session, "store": store, "envelope": envelope, "evaluator": supervisor, "form": form}
    mine = {scored_call(**made, queue=queue, agent_ref="agent-pages").id for _ in range(PAGE_SIZE + 1)}
    login(client, supervisor)

    shown: list[list[str]] = []
    path: str | None = "/evaluations/"
    while path is not None:
        page = client.get(path)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        shown.append(SCORE_LINK.findall(html))
        following = NEXT.search(html)
        path = following.group(1).replace("&amp;", "&") if following else None
    every = [evaluation_id for listed in shown for evaluation_id in listed]
    assert len(every) == len(set(every)) and mine <= set(every)
    assert all(shown)  # no page of nothing after a full one
