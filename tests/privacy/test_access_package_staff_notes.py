"""What staff wrote on a customer's call is the customer's personal data too (Art. 15): a supervisor's comment at a
moment of the call ("customer disputes the March bill") and the call list's tags go into the access package, without
naming who wrote them (staff's own data, Art. 15(4)). Found by review: the package held the call, its transcript and
its details, but none of what the organisation had noted about it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from recordings_service.calls.review import add_annotation
from recordings_service.calls.tags import tag_calls
from recordings_service.models.account import Role
from recordings_service.models.training import NominationKind
from recordings_service.privacy.access_package import package_entry
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.training.nominations import nominate
from recordings_service.training_rules import TrainingRules
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.privacy import ORG_ZONE, aged_call, customer
from tests.factories.training import clip_row, training_call


def test_comments_and_tags_are_in_the_calls_metadata_without_their_authors(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    call = aged_call(
        session, bucket, envelope, started_at=datetime.now(UTC), purposes=["training"], customer_id=person.id
    )
    other = aged_call(session, bucket, envelope, started_at=datetime.now(UTC), purposes=["training"])
    supervisor = actor_of(make_user(session, role=Role.QA_SUPERVISOR, username="sanna.supervisor"))
    add_annotation(session, actor=supervisor, recording_id=call.id, at_s=0.5, text="Customer disputes the March bill")
    add_annotation(session, actor=supervisor, recording_id=call.id, at_s=0.25, text="Asked for a callback")
    add_annotation(session, actor=supervisor, recording_id=other.id, at_s=0.1, text="Another customer's call")
    tag_calls(session, actor=supervisor, recording_ids=[call.id, other.id], tag="Billing dispute")

    entry = package_entry(session, recording_id=call.id, customer_id=person.id, zone=ORG_ZONE)

    assert entry is not None
    metadata = json.loads(entry.documents[f"recordings/{call.id}/metadata.json"])
    assert [(note["at_s"], note["text"]) for note in metadata["comments"]] == [
        (0.25, "Asked for a callback"),
        (0.5, "Customer disputes the March bill"),
    ]
    assert all(datetime.fromisoformat(note["written_at"]).tzinfo for note in metadata["comments"])
    assert metadata["tags"] == ["Billing dispute"]
    shown = "".join(body.decode() for body in entry.documents.values())
    assert "sanna.supervisor" not in shown and str(supervisor.id) not in shown


def test_what_training_kept_of_the_call_is_in_its_metadata_without_who(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    """Found by a privacy pass: a clip cut from the customer's call (a copy of their voice, redacted, kept for
    training) and a nomination's note about it were in no part of the package."""
    person = customer(session)
    call = training_call(session, bucket, envelope, customer_id=person.id)
    supervisor = actor_of(make_user(session, role=Role.QA_SUPERVISOR, username="sanna.nominator"))
    nominate(
        session,
        actor=supervisor,
        recording_id=call.id,
        kind=NominationKind.GOOD_EXAMPLE,
        note="Calm with an upset customer",
        start_s=1.0,
        end_s=4.0,
        rules=TrainingRules(),
    )
    trainer = make_user(session, role=Role.TRAINER, username="tuula.trainer")
    clip = clip_row(session, call, actor_of(trainer), start_s=0.5, end_s=3.5)
    clip.title, clip.tags, clip.notes = "Greeting", ["opening"], "Listen to the pace"
    session.flush()

    entry = package_entry(session, recording_id=call.id, customer_id=person.id, zone=ORG_ZONE)

    assert entry is not None
    training = json.loads(entry.documents[f"recordings/{call.id}/metadata.json"])["training"]
    assert [(n["kind"], n["note"], n["start_s"], n["end_s"]) for n in training["nominations"]] == [
        ("good_example", "Calm with an upset customer", 1.0, 4.0)
    ]
    assert [(c["start_s"], c["end_s"], c["title"], c["tags"], c["notes"]) for c in training["clips"]] == [
        (0.5, 3.5, "Greeting", ["opening"], "Listen to the pace")
    ]
    shown = "".join(body.decode() for body in entry.documents.values())
    assert "sanna.nominator" not in shown and "tuula.trainer" not in shown and trainer.id not in shown
