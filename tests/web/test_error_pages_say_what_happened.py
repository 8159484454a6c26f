"""An error page says in the reader's language what happened when the store or Callvault itself failed.

Found by exploratory testing in Finnish: a compliance user exporting evidence while the store was down read
"Virhe 503 — object store unreachable: EndpointConnectionError" (the client library's exception name), and an
unexpected error "An unexpected error occurred; it has been logged." in English."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.storage.object_store import S3ObjectStore, make_client
from tests.factories.accounts import csrf_token, login, make_user
from tests.factories.recordings import make_recording
from tests.live_server import free_port
from web import create_app


@pytest.mark.parametrize(("language", "said"), [("fi", "Callvault ei juuri nyt tavoita"), ("en", "cannot reach")])
def test_a_page_that_meets_an_unreachable_store_says_so_in_the_readers_language(
    base_settings: Settings, runtime: Runtime, session: Session, language: str, said: str
) -> None:
    recording = make_recording(session, runtime.store, runtime.envelope)
    officer = make_user(session, role=Role.COMPLIANCE)
    session.commit()
    dead = replace(base_settings, s3_endpoint=f"http://127.0.0.1:{free_port()}")
    app = create_app(runtime.settings, runtime=replace(runtime, store=S3ObjectStore(make_client(dead), "callvault")))
    app.config.update(TESTING=True)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    login(client, officer)

    page = client.post(f"/calls/{recording.id}/evidence", data={"csrf_token": csrf_token(client, "/account")})

    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert said in text
    assert "EndpointConnectionError" not in text and "unreachable" not in text
