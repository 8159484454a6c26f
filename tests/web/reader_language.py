"""Pages as a reader of one language sees them: a form sent with the session's CSRF token in that language, and
the page a refused form went back to (rendered again with the refusal, or a flashed error) as visible text."""

from __future__ import annotations

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories.accounts import csrf_token
from tests.page_text import visible_text

FINNISH = {"Accept-Language": "fi"}
ENGLISH = {"Accept-Language": "en"}


def post_as(
    client: FlaskClient, path: str, data: dict[str, str], *, token_from: str, headers: dict[str, str] = FINNISH
) -> TestResponse:
    """POST a form as a reader of `headers`' language, with the session's CSRF token."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)}, headers=headers)


def post_finnish(client: FlaskClient, path: str, data: dict[str, str], *, token_from: str) -> TestResponse:
    """POST a form as a reader of Finnish, with the session's CSRF token."""
    return post_as(client, path, data, token_from=token_from, headers=FINNISH)


def shown_after(client: FlaskClient, response: TestResponse, *, headers: dict[str, str] = FINNISH) -> str:
    """What the page a form went back to shows: the page rendered again with a refused form as typed (422, 409 for
    a conflict: `web/ui/refused_form.py`), or the one it was redirected to (a flashed message included)."""
    if response.status_code in {409, 422}:
        return visible_text(response.get_data(as_text=True))
    assert response.status_code == 302
    return visible_text(client.get(response.headers["Location"], headers=headers).get_data(as_text=True))


def shown_after_post(
    client: FlaskClient, path: str, data: dict[str, str], *, token_from: str, headers: dict[str, str] = FINNISH
) -> str:
    """What the page a form went back to shows, the form sent and the page read in one language."""
    sent = post_as(client, path, data, token_from=token_from, headers=headers)
    return shown_after(client, sent, headers=headers)
