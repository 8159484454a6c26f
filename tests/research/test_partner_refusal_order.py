"""Another institute's partner posting a confirmation for a batch not theirs is told it does not exist (404) and
the refusal is audited, whatever the form holds: found by review, an incomplete form (no date, a bad date, a
certificate sent as a plain field) was answered 422 about the form, which tells the batch exists, and
`research.partner_refused` was written only when the form was complete."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import CustodyConfirmation, User
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM, csrf_token, login, make_user
from tests.factories.audit import events
from tests.factories.research import (
    as_ready,
    downloaded,
    downloaded_with_partner_token,
    draft,
    institute,
    partner,
)

COMPLETE = {"method": "destroyed", "date": "2026-11-20", "signer": "A. Researcher", "title": "Head of lab"}
COMPLETE |= {"statement": "Deleted from the lab's file server."}


@pytest.mark.parametrize(
    "form",
    [
        {key: value for key, value in COMPLETE.items() if key != "date"},
        {**COMPLETE, "date": "yesterday"},
        {**COMPLETE, "certificate": "%PDF-1.4"},
        # A PDF's bytes are no text: not refused as text (NUL, U+0000) before the batch is looked up.
        {**COMPLETE, "certificate": "%PDF-1.4\n\u0000\u0001"},
        {},
    ],
    ids=["no_date", "bad_date", "certificate_as_text", "certificate_holding_nul", "empty"],
)
def test_a_batch_not_theirs_is_404_and_audited_before_the_form_is_read(
    client: FlaskClient, session: Session, runtime: Runtime, form: dict[str, str]
) -> None:
    ours, theirs = institute(session), institute(session)
    batch = as_ready(draft(session, runtime, make_user(session, role=Role.COMPLIANCE), theirs.id))
    downloaded(session, batch)
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, ours.id), scope="partner")
    session.commit()

    answer = client.post(
        f"/api/v1/research/batches/{batch.id}/confirmation", data=form, headers={"Authorization": f"Bearer {plain}"}
    )

    assert answer.status_code == 404, answer.json
    assert answer.json["error"] == "not_found"
    assert [event.details.get("rule") for event in events(session, "research.partner_refused", batch.id)] == [
        "institute"
    ]


# A signer holding NUL, or a byte that is not UTF-8 (escaped or raw): the app-wide check of form text refused it, 422
# about the form, before the batch was looked up, and wrote no `research.partner_refused`.
UNUSABLE_SIGNERS = [b"A%00B", b"Lind%E9n", b"Lind\xe9n"]
URLENCODED = "application/x-www-form-urlencoded"


def _their_batch(session: Session, runtime: Runtime) -> tuple[str, str]:
    """A downloaded batch of another institute, and a partner of ours (committed)."""
    ours, theirs = institute(session), institute(session)
    batch = as_ready(draft(session, runtime, make_user(session, role=Role.COMPLIANCE), theirs.id))
    downloaded(session, batch)
    user = partner(session, ours.id)
    session.commit()
    return batch.id, user.id


@pytest.mark.parametrize("signer", UNUSABLE_SIGNERS, ids=["nul", "escaped_latin1", "raw_latin1"])
def test_a_batch_not_theirs_is_404_and_audited_whatever_text_the_form_holds(
    client: FlaskClient, session: Session, runtime: Runtime, signer: bytes
) -> None:
    batch_id, user_id = _their_batch(session, runtime)
    _, plain = create_token(session, actor=SYSTEM, user=session.get(User, user_id), scope="partner")
    session.commit()
    body = b"method=destroyed&date=2026-11-20&title=Head&statement=Deleted&signer=" + signer

    answer = client.post(
        f"/api/v1/research/batches/{batch_id}/confirmation",
        data=body,
        content_type=URLENCODED,
        headers={"Authorization": f"Bearer {plain}"},
    )

    assert (answer.status_code, answer.json["error"]) == (404, "not_found")
    assert [event.details.get("rule") for event in events(session, "research.partner_refused", batch_id)] == [
        "institute"
    ]


@pytest.mark.parametrize("signer", UNUSABLE_SIGNERS, ids=["nul", "escaped_latin1", "raw_latin1"])
def test_the_page_of_a_batch_not_theirs_is_404_and_audited_whatever_text_the_form_holds(
    client: FlaskClient, session: Session, runtime: Runtime, signer: bytes
) -> None:
    batch_id, user_id = _their_batch(session, runtime)
    login(client, session.get(User, user_id))
    token = csrf_token(client, "/partner/").encode()
    body = b"csrf_token=" + token + b"&method=destroyed&confirmed_on=2026-11-20&title=H&statement=D&signer=" + signer

    answer = client.post(f"/partner/batches/{batch_id}/confirmation", data=body, content_type=URLENCODED)

    assert answer.status_code == 404
    assert len(events(session, "research.partner_refused", batch_id)) == 1


@pytest.mark.parametrize(
    ("signer", "code"), [(b"A%00B", "invalid_character"), (b"Lind%E9n", "not_utf8"), (b"Lind\xe9n", "not_utf8")]
)
def test_their_own_batch_still_refuses_such_a_signer_naming_it(
    client: FlaskClient, session: Session, runtime: Runtime, signer: bytes, code: str
) -> None:
    batch, plain = downloaded_with_partner_token(session, runtime)
    body = b"method=destroyed&date=2026-11-20&title=Head&statement=Deleted&signer=" + signer

    answer = client.post(
        f"/api/v1/research/batches/{batch.id}/confirmation",
        data=body,
        content_type=URLENCODED,
        headers={"Authorization": f"Bearer {plain}"},
    )

    assert (answer.status_code, answer.json["error"], answer.json["field"]) == (422, code, "signer")
    assert session.scalars(select(CustodyConfirmation)).all() == []
