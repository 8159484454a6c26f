"""Found by exploratory testing: a call taken out of training (its customer objected to marketing, or it lost the
training purpose) was still listed to trainers in the nominations, with the supervisor's note on what the call
holds, through the list and the trainer's view of the call, where nominating it again is refused and samples leave
it out. A trainer now sees the nominations of the calls trainers may use; a QA supervisor still sees every one."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Customer, Recording
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.recordings import make_token
from tests.factories.training import bearer, call_of_customer, training_call

NOMINATIONS = "/api/v1/training/nominations"
NOTE = "Great handling of the price question"


def _take_out(session: Session, call: Recording, how: str) -> None:
    if how == "objection":
        customer = session.get_one(Customer, call.customer_id)
        customer.objects_to_marketing = True
    else:
        call.purposes = ["verification"]
    session.commit()


@pytest.mark.parametrize("how", ["objection", "purpose"])
def test_a_trainer_no_longer_sees_the_nominations_of_a_call_taken_out_of_training(
    client: FlaskClient, session: Session, runtime: Runtime, how: str
) -> None:
    call = call_of_customer(session, runtime.store, runtime.envelope)
    usable = training_call(session, runtime.store, runtime.envelope)
    qa = bearer(make_token(session, role=Role.QA_SUPERVISOR, scope="training"))
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    session.commit()
    for nominated in (call, usable):
        body = {"recording_id": nominated.id, "kind": "good_example", "note": NOTE}
        assert client.post(NOMINATIONS, headers=qa, json=body).status_code == 201
    _take_out(session, call, how)

    listed = client.get(NOMINATIONS, headers=trainer).get_json()["items"]
    of_call = client.get(NOMINATIONS, headers=trainer, query_string={"recording_id": call.id})
    view = client.get(f"/api/v1/training/calls/{call.id}", headers=trainer)

    assert [item["recording_id"] for item in listed] == [usable.id]
    assert of_call.status_code == 200 and of_call.get_json()["items"] == []
    assert view.status_code == 200 and view.get_json()["nominations"] == []
    supervisors = client.get(NOMINATIONS, headers=qa).get_json()["items"]
    assert {item["recording_id"] for item in supervisors} == {call.id, usable.id}
