"""Refusals of data-subject requests and legal holds, and the evaluation panel's time field, say why in the
reader's language: each carries a stable code (`why`) that web/ui/error_messages.py translates, where the API's
`error` stays the generic one clients match on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.errors import Conflict
from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.models.privacy import SubjectRequest
from recordings_service.privacy import holds, package_queue, subjects
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of, published_form
from tests.factories.privacy import OFFICER, customer
from tests.factories.recordings import make_recording
from tests.page_text import visible_text
from tests.web.reader_language import ENGLISH, FINNISH, post_finnish, shown_after, shown_after_post
from web.ui.error_messages import error_message

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def officer_client(client: FlaskClient, session: Session) -> FlaskClient:
    login(client, make_user(session, role=Role.COMPLIANCE))
    return client


def request_of(session: Session, kind: str, *, received_days_ago: int = 0) -> SubjectRequest:
    made = subjects.create_request(
        session,
        actor=OFFICER,
        customer_ref=customer(session).customer_ref,
        kind=kind,
        received_at=NOW - timedelta(days=received_days_ago),
    )
    session.commit()
    return made


def extend(
    client: FlaskClient, request: SubjectRequest, *, headers: dict[str, str] = FINNISH, months: str = "1"
) -> str:
    """What the request's page says after its deadline was asked to be extended by `months` (a month)."""
    path = f"/subjects/{request.id}"
    form = {"months": months, "reason": "laaja aineisto"}
    return shown_after_post(client, f"{path}/extend", form, token_from=path, headers=headers)


# ---------------------------------------------------------------- data-subject requests


def test_a_second_extension_is_refused_in_finnish(officer_client: FlaskClient, session: Session) -> None:
    request = request_of(session, "access")
    subjects.extend_request(session, actor=OFFICER, request_id=request.id, months=1, reason="laaja")
    session.commit()
    text = extend(officer_client, request)
    assert "määräaikaa on jo jatkettu kerran; sitä voi jatkaa vain kerran" in text
    assert "extended once already" not in text


@pytest.mark.parametrize("months", ["0_2", "²", "2.0"])
def test_months_not_written_as_a_whole_number_are_refused(
    officer_client: FlaskClient, session: Session, months: str
) -> None:
    """Found by exploratory testing on another form: Python's int reads "0_2" as 2, and the deadline moved."""
    request = request_of(session, "access")
    due = request.due_at
    text = extend(officer_client, request, months=months)
    assert "Määräaikaa jatkettu." not in text
    session.expire_all()
    assert session.get_one(SubjectRequest, request.id).due_at == due


def test_a_second_extension_is_refused_in_english_without_the_requests_id(
    officer_client: FlaskClient, session: Session
) -> None:
    request = request_of(session, "access")
    subjects.extend_request(session, actor=OFFICER, request_id=request.id, months=1, reason="wide")
    session.commit()
    text = extend(officer_client, request, headers=ENGLISH)
    assert "the deadline has been extended once already; it can be extended only once" in text
    assert f"subject request {request.id}" not in text


def test_an_overdue_request_is_not_extended_and_says_so_in_finnish(
    officer_client: FlaskClient, session: Session
) -> None:
    text = extend(officer_client, request_of(session, "access", received_days_ago=70))
    assert "pyynnön määräaika on jo ohi: jatkamisesta päätetään ensimmäisen kuukauden aikana" in text
    assert "is overdue" not in text


def test_an_answered_request_is_not_extended_and_says_so_in_finnish(
    officer_client: FlaskClient, session: Session
) -> None:
    request = request_of(session, "objection")
    subjects.record_objection(session, actor=OFFICER, request_id=request.id, research=True, marketing=None)
    session.commit()
    text = extend(officer_client, request)
    assert "pyyntöön on jo vastattu" in text and "answered already" not in text


def test_lifting_what_is_not_a_restriction_is_refused_in_finnish(officer_client: FlaskClient, session: Session) -> None:
    request = request_of(session, "access")
    path = f"/subjects/{request.id}"
    text = shown_after(officer_client, post_finnish(officer_client, f"{path}/lift", {}, token_from=path))
    assert "tämä pyyntö ei ole voimassa oleva käsittelyn rajoitus" in text
    assert "not a restriction in force" not in text


def test_an_access_package_asked_for_twice_is_refused_in_finnish(officer_client: FlaskClient, session: Session) -> None:
    request = request_of(session, "access")
    path = f"/subjects/{request.id}"
    assert post_finnish(officer_client, f"{path}/fulfil", {}, token_from=path).status_code == 302
    again = post_finnish(officer_client, f"{path}/fulfil", {}, token_from=path)
    text = visible_text(again.get_data(as_text=True))
    assert again.status_code == 409
    assert "tietopyynnön paketti on jo jonossa koottavaksi" in text and "queued already" not in text


def test_an_action_for_another_kind_of_request_is_refused_in_finnish(app: Flask, session: Session) -> None:
    # The pages only offer a request's own kind's actions; the API can ask for another's.
    request = request_of(session, "objection")
    with pytest.raises(Conflict) as refused:
        package_queue.request_package(session, actor=OFFICER, request_id=request.id)
    assert refused.value.code == "conflict" and refused.value.why == "other_kind"
    with app.test_request_context(headers=FINNISH):
        assert error_message(refused.value) == "tämä ei koske tämänlajista pyyntöä"


# ---------------------------------------------------------------- legal holds


def release(client: FlaskClient, hold_id: str, *, headers: dict[str, str] = FINNISH) -> str:
    path = f"/compliance/holds/{hold_id}/release"
    return shown_after_post(client, path, {"reason": "sovittu"}, token_from="/compliance/holds", headers=headers)


def place_on_call(client: FlaskClient, recording_id: str) -> str:
    """The holds page a refused hold comes back to, with what was typed (a refusal answers it, not a redirect)."""
    form = {"target": "recording", "value": recording_id, "reason": "riita"}
    refused = post_finnish(client, "/compliance/holds", form, token_from="/compliance/holds")
    page = refused.get_data(as_text=True)
    assert refused.status_code in {404, 409, 422} and f'value="{recording_id}"' in page and 'value="riita"' in page
    return visible_text(page)


def test_releasing_an_unknown_hold_is_refused_in_finnish(officer_client: FlaskClient) -> None:
    text = release(officer_client, "01JNOSUCHHOLD0000000000000")
    assert "oikeudellista säilytysvelvoitetta ei löytynyt" in text and "not found" not in text


def test_releasing_an_unknown_hold_is_refused_in_english_without_the_id(officer_client: FlaskClient) -> None:
    text = release(officer_client, "01JNOSUCHHOLD0000000000000", headers=ENGLISH)
    assert "the legal hold was not found" in text and "01JNOSUCHHOLD" not in text


def test_releasing_a_hold_twice_is_refused_in_finnish(officer_client: FlaskClient, session: Session) -> None:
    hold = holds.place_hold(session, actor=OFFICER, reason="riita", customer_ref="CRM-HOLD-TWICE").hold
    holds.release_hold(session, actor=OFFICER, hold_id=hold.id, reason="sovittu")
    session.commit()
    text = release(officer_client, hold.id)
    assert "oikeudellinen säilytysvelvoite on jo vapautettu" in text and "released already" not in text


def test_a_hold_on_an_unknown_call_is_refused_in_finnish(officer_client: FlaskClient) -> None:
    text = place_on_call(officer_client, "01JNOSUCHCALL0000000000000")
    assert "tällä ID:llä ei löytynyt puhelua" in text and "not found" not in text


def test_a_hold_on_a_deleted_call_is_refused_in_finnish(
    officer_client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    gone: Recording = make_recording(session, store, envelope, audio=b"RIFF-gone", status="deleted")
    session.commit()
    text = place_on_call(officer_client, gone.id)
    assert "puhelu on jo poistettu" in text and "already been deleted" not in text


# ---------------------------------------------------------------- the evaluation panel


def test_an_unreadable_moment_in_the_evaluation_panel_is_refused_in_finnish(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    qa = make_user(session, role=Role.QA_SUPERVISOR)
    login(client, qa)
    form = published_form(session, actor_of(qa))
    call = make_recording(session, store, envelope)
    session.commit()
    path = f"/calls/{call.id}"
    data = {"form_id": form.id, f"at.{form.questions[0].id}": "kohta"}
    refused = post_finnish(client, f"{path}/evaluation", data, token_from=path)
    assert refused.status_code == 302  # back to the panel, as its other refusals: what was typed kept as the draft
    text = shown_after(client, refused)
    assert "anna hetki sekunteina puhelun alusta" in text and "give the moment" not in text
