"""A value no select offers, typed into a training page's link by hand, is refused naming the select (found by
review: `/training/nominations/?kind=bad` listed nominations of both kinds and a sample with `evaluated=maybe` drew
from evaluated and unevaluated calls alike, each as if the filter had been left empty)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.training import Nomination, NominationKind
from recordings_service.runtime import Runtime
from tests.factories.training import sampled_calls, training_call

CHOICE_REFUSED = "choose one of the options offered"


def test_a_nomination_kind_no_select_offers_is_refused_and_lists_nothing(
    trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = training_call(session, runtime.store, runtime.envelope)
    session.add(Nomination(recording_id=call.id, kind=NominationKind.GOOD_EXAMPLE, note="calm close"))
    session.commit()

    listed = trainer_client.get("/training/nominations/", query_string={"kind": "good_example"})
    refused = trainer_client.get("/training/nominations/", query_string={"kind": "bad"})

    assert listed.status_code == 200 and "calm close" in listed.get_data(as_text=True)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422, page
    assert f"Kind: {CHOICE_REFUSED}" in page and 'aria-invalid="true"' in page
    assert "calm close" not in page


def test_an_evaluated_choice_no_select_offers_is_refused_naming_the_select(
    trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    unscored = training_call(session, runtime.store, runtime.envelope)
    session.commit()

    def drawn(choice: str) -> tuple[int, str]:
        answer = trainer_client.get("/training/", query_string={"size": "5", "evaluated": choice})
        return answer.status_code, answer.get_data(as_text=True)

    for choice, calls in (("", [unscored.id]), ("no", [unscored.id]), ("yes", [])):
        status, page = drawn(choice)
        assert (status, sampled_calls(page)) == (200, calls), choice
    status, page = drawn("maybe")
    assert status == 422 and sampled_calls(page) == []
    assert f"Evaluated: {CHOICE_REFUSED}" in page and 'id="evaluated" name="evaluated" aria-invalid="true"' in page
