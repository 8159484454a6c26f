"""A call whose customer was not told it is recorded (`notice_given` false) is not used for training, as research
leaves such calls out: a voice recorded unawares is not played to staff as an example. Found reviewing the
exclusions: sampling drew such calls, and trainers cut clips from them."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.recordings import make_token
from tests.factories.training import bearer, sample, trainer, training_call


def test_a_call_recorded_without_notice_is_excluded_from_samples_and_clips(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    told = training_call(session, runtime.store, runtime.envelope, queue="notice-test")
    unaware = training_call(session, runtime.store, runtime.envelope, queue="notice-test", notice_given=False)
    session.commit()

    drawn = sample(session, runtime.envelope, trainer(session), size=5, seed=1, queues=["notice-test"])
    assert [item.recording_id for item in drawn.calls] == [told.id]
    assert drawn.excluded == {"no_notice": 1}

    token = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    body = {"recording_id": unaware.id, "first_segment": 0, "last_segment": 1, "title": "Unaware"}
    refused = client.post("/api/v1/training/clips", headers=token, json=body)
    assert refused.status_code == 409 and "no_notice" in refused.get_json()["message"]
    assert client.get(f"/api/v1/recordings/{unaware.id}/transcript", headers=token).status_code == 409
