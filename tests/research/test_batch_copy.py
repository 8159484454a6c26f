"""A batch's page offers a new batch from it: the selection form filled as that batch was selected, its seed too,
so that a draft with a typo, rejected, is selected again as it was with the typo corrected. The form started from
its defaults and a fresh seed: the same sample could not be drawn again unless the seed was copied by hand."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.research import draft, institute, research_call


def test_the_form_comes_filled_as_the_batch_was_selected(
    officer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    made = draft(session, runtime, make_user(session, role=Role.COMPLIANCE), institute(session).id, study="Laskutsu")
    made.criteria = {**made.criteria, "seed": 0, "min_duration_s": 0.0}  # zeros are values, not gaps
    session.commit()
    copy = f"/research/batches/new?copy_of={made.id}"
    assert f'href="{copy}"' in officer_client.get(f"/research/batches/{made.id}").get_data(as_text=True)

    form = officer_client.get(copy).get_data(as_text=True)

    def value(name: str) -> str:
        found = re.search(rf'<(?:input|textarea) id="{name}"[^>]*?(?:value="([^"]*)"|>([^<]*)</textarea>)', form)
        assert found is not None, name
        return found.group(1) if found.group(1) is not None else found.group(2)

    criteria = made.criteria
    assert (value("study"), value("purpose")) == ("Laskutsu", made.purpose)
    assert (value("from"), value("to")) == (criteria["from"], criteria["to"])
    assert (value("sample_size"), value("seed")) == (str(criteria["sample_size"]), str(criteria["seed"]))
    assert (value("min_duration_s"), value("max_duration_s")) == ("0.0", "")
    assert value("study_end") == made.study_end.isoformat()
    assert re.search(rf'<option value="{made.institute_id}" selected>', form)
