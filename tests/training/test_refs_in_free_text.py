"""What people write about a call for trainers (a nomination's note; a clip's title, tags and notes) loses the
call's own customer and agent refs wherever they appear: trainers never see either (found by exploratory testing:
"customer CRM-100001" and a tag "CRM-100001" reached every trainer and the export as typed)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.redaction import redact_text
from recordings_service.redaction.findings import PiiKind
from recordings_service.runtime import Runtime
from tests.factories.recordings import make_token
from tests.factories.training import bearer, call_of_customer


def test_known_values_are_redacted_as_whole_words_in_any_case() -> None:
    known = {"CRM-100001": PiiKind.CUSTOMER_NUMBER, "agent-anna": PiiKind.PERSON}
    text = "crm-100001 asked; Agent-Anna answered. Not CRM-1000011 nor xagent-anna."
    assert redact_text(text, "en", known=known) == (
        "[CUSTOMER_NUMBER] asked; [PERSON] answered. Not CRM-1000011 nor xagent-anna."
    )
    assert redact_text(text, "en") == text  # without the call's refs, nothing here is personal data


def test_a_nomination_note_naming_the_calls_customer_and_agent_reaches_trainers_without_them(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = call_of_customer(
        session, runtime.store, runtime.envelope, agent_ref="agent-anna"
    )  # its customer is CRM-TRAINING-1
    qa = bearer(make_token(session, role=Role.QA_SUPERVISOR, scope="training"))
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    note = "Great call by agent-anna; customer crm-training-1 was pleased."

    made = client.post(
        "/api/v1/training/nominations", headers=qa, json={"recording_id": call.id, "kind": "good_example", "note": note}
    )

    assert made.status_code == 201, made.get_json()
    expected = "Great call by [PERSON]; customer [CUSTOMER_NUMBER] was pleased."
    assert made.get_json()["note"] == expected
    listed = client.get("/api/v1/training/nominations", headers=trainer).get_json()["items"]
    assert [item["note"] for item in listed] == [expected]
