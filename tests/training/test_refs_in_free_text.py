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


def test_a_clips_title_tags_and_notes_reach_other_trainers_without_the_calls_refs(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = call_of_customer(session, runtime.store, runtime.envelope, agent_ref="agent-anna")
    author = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    colleague = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    body = {
        "recording_id": call.id,
        "start_s": 0.5,
        "end_s": 3.5,
        "title": "Greeting by AGENT-ANNA",
        "tags": ["renewal", "CRM-TRAINING-1"],
        "notes": "customer crm-training-1, agent agent-anna",
    }

    made = client.post("/api/v1/training/clips", headers=author, json=body)
    assert made.status_code == 201, made.get_json()
    clip_id = made.get_json()["id"]
    edited = client.patch(f"/api/v1/training/clips/{clip_id}", headers=author, json={"notes": "again agent-anna"})
    assert edited.status_code == 200, edited.get_json()

    seen = client.get(f"/api/v1/training/clips/{clip_id}", headers=colleague).get_json()
    assert (seen["title"], seen["tags"], seen["notes"]) == (
        "Greeting by [PERSON]",
        ["renewal", "[CUSTOMER_NUMBER]"],
        "again [PERSON]",
    )
