"""A refused form's error is tied to the field it names (`aria-describedby` to the error, which says it once), so a
screen reader reads the reason when it reaches the field marked invalid.

Found by exploratory testing: creating a user with a username of a space, or a training set without a title, marked
the field `aria-invalid` but named no description, and the message had no id to name; the sets page said its error
twice (at the top and beside the form)."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from tests.factories.accounts import csrf_token, make_user
from tests.factories.staff import client_of


def _tied(page: str, field_id: str) -> str:
    """The text of the error the field with `field_id` is described by; fails unless it is marked invalid."""
    field = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{field_id}"[^>]*>', page)
    assert field is not None and 'aria-invalid="true"' in field.group(), field
    described = re.search(r'aria-describedby="([^"]+)"', field.group())
    assert described is not None, field.group()
    errors = re.findall(rf'<p\b[^>]*\bid="{described.group(1)}"[^>]*>(.*?)</p>', page, flags=re.S)
    assert len(errors) == 1, errors
    return errors[0]


def test_a_refused_new_users_field_is_described_by_its_error(app: Flask, session: Session) -> None:
    client = client_of(app, make_user(session, role=Role.ADMIN))
    sent = {"username": " ", "role": "qa_supervisor", "csrf_token": csrf_token(client, "/admin/users/new")}

    page = client.post("/admin/users/new", data=sent).get_data(as_text=True)

    assert _tied(page, "username").strip()


def test_a_training_set_without_a_title_is_said_once_beside_its_field(app: Flask, session: Session) -> None:
    client = client_of(app, make_user(session, role=Role.TRAINER))
    sent = {"title": "", "csrf_token": csrf_token(client, "/training/sets/")}

    page = client.post("/training/sets/", data=sent).get_data(as_text=True)

    assert _tied(page, "title").strip()
