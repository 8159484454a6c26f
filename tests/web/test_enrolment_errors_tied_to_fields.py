"""An enrolment page refused for two different passwords, or for a wrong code, marks the field to correct and points
it at the error, as the password page does. Found by an accessibility pass: the first password field was marked
invalid with nothing tying the error to it, and a wrong code marked no field at all."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service import mfa
from recordings_service.audit import Actor
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import fresh_code, make_user, post_form, shown_seed

NEW_PASSWORD = "the holder's own, long"
ADMIN = Actor(id=None, name="admin-test", role="admin")


def _field(page: str, name: str) -> str:
    match = re.search(rf'<input id="{name}"[^>]*>', page)
    assert match, name
    return match.group(0)


def test_a_refused_enrolment_marks_the_field_to_correct(app: Flask, session: Session, envelope: Envelope) -> None:
    holder = make_user(session, role=Role.TRAINER, password=None)
    path = f"/enrol/{mfa.issue_enrolment_link(session, envelope, actor=ADMIN, user_id=holder.id)}"
    session.commit()
    browser = app.test_client()
    code = fresh_code(shown_seed(browser, path))
    not_the_code = f"{(int(code) + 1) % 1_000_000:06d}"

    differ = post_form(
        browser, path, {"new_password": NEW_PASSWORD, "confirm_password": "another", "code": "1"}, token_from=path
    )
    wrong_code = post_form(
        browser,
        path,
        {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD, "code": not_the_code},
        token_from=path,
    )

    assert differ.status_code == 422 and 'id="form-error"' in differ.text
    assert 'aria-invalid="true" aria-describedby="form-error"' in _field(differ.text, "new_password")
    assert wrong_code.status_code == 401 and 'id="form-error"' in wrong_code.text
    assert 'aria-invalid="true" aria-describedby="form-error"' in _field(wrong_code.text, "code")
    assert "aria-invalid" not in _field(wrong_code.text, "new_password")
