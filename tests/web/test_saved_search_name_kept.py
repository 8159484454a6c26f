"""Found by exploratory testing: a saved search's name refused (101 characters) sent the call list back with a flash
and an empty name field, unmarked: what was typed was gone. The list now comes back with the name as typed, the
field marked and the reason beside it, the list's filters as they were."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.calls import saved_searches
from recordings_service.models.account import Role
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.staff import client_of
from tests.page_text import visible_text
from tests.web.reader_language import post_finnish


def test_a_name_refused_is_kept_beside_its_field_on_the_list(app: Flask, session: Session) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    client = client_of(app, supervisor)
    typed = "N" * 101

    sent = post_finnish(client, "/calls/saved-searches", {"name": typed, "back": "queue=billing"}, token_from="/calls/")

    assert sent.status_code == 422
    html = sent.get_data(as_text=True)
    field = re.search(r'<input id="saved-name"[^>]*>', html)
    assert field is not None and f'value="{typed}"' in field[0]
    assert 'aria-invalid="true" aria-describedby="save-search-error"' in field[0]
    assert "Nimessä voi olla enintään 100 merkkiä." in visible_text(html)
    assert 'id="queue" name="queue" value="billing"' in html  # the list as it was
    assert saved_searches.saved_searches(session, actor=actor_of(supervisor)) == []
