"""A clip's title (and tags) within their limits as typed, but longer once redaction put its placeholders in
(an identity code's 11 characters become `[PERSONAL_ID]`'s 13): the clip was refused as "at most 200 characters"
although 200 were typed, and nothing said why. It is still refused (422 naming the field: a title is never cut
short behind the trainer's back), now saying that the placeholders made it longer and by how much, and the form
comes back with the title as it was typed."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.errors import Invalid
from recordings_service.models import TrainingClip
from recordings_service.models.account import Role
from recordings_service.redaction import redact_text
from recordings_service.runtime import Runtime
from recordings_service.training import clip_tags, clips
from recordings_service.training.clips import ClipText
from tests.factories.accounts import csrf_token
from tests.factories.recordings import make_token
from tests.factories.training import bearer, stereo_call

IDENTITY_CODE = "131052-308T"  # 11 characters, redacted as [PERSONAL_ID] (13)


def english(text: str) -> str:
    return redact_text(text, "en")


def padded(text: str, length: int) -> str:
    return text + " " + "x" * (length - len(text) - 1)


FULL_TITLE = padded(f"Caller read {IDENTITY_CODE} aloud", clips.MAX_TITLE)  # 200 typed, 202 once redacted


def test_a_title_that_fits_as_typed_but_not_once_redacted_is_refused_saying_why() -> None:
    assert len(FULL_TITLE) == clips.MAX_TITLE
    with pytest.raises(Invalid) as refused:
        ClipText(title=FULL_TITLE).checked(english)
    error = refused.value
    assert (error.field, error.code, error.why) == ("title", "too_long", "too_long_after_redaction")
    assert dict(error.values) == {"length": 202, "max": clips.MAX_TITLE}
    assert "personal data" in error.message and "202" in error.message and "2 characters" in error.message
    # One that is too long as typed is refused as before, without talk of placeholders.
    with pytest.raises(Invalid) as typed_too_long:
        ClipText(title="y" * (clips.MAX_TITLE + 1)).checked(english)
    assert typed_too_long.value.why is None and typed_too_long.value.code == "too_long"


def test_a_tag_that_grows_past_its_limit_is_refused_the_same_way() -> None:
    tag = padded(IDENTITY_CODE, clip_tags.MAX_TAG)
    with pytest.raises(Invalid) as refused:
        ClipText(title="fine", tags=(tag,)).checked(english)
    assert (refused.value.field, refused.value.why) == ("tags", "too_long_after_redaction")
    assert refused.value.values["max"] == clip_tags.MAX_TAG


def test_a_title_at_the_limit_once_redacted_is_kept_whole() -> None:
    title = padded(f"Caller read {IDENTITY_CODE} aloud", clips.MAX_TITLE - 2)
    checked = ClipText(title=title).checked(english)
    assert len(checked.title) == clips.MAX_TITLE and "[PERSONAL_ID]" in checked.title
    assert checked.title.endswith("x") and "…" not in checked.title


def test_the_api_refuses_it_naming_the_title_and_the_page_keeps_what_was_typed(
    client: FlaskClient, trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))

    body = {"recording_id": call.id, "start_s": 1, "end_s": 3, "title": FULL_TITLE}
    refused = client.post("/api/v1/training/clips", headers=trainer, json=body)
    assert refused.status_code == 422, refused.get_data(as_text=True)
    answer = refused.get_json()
    assert (answer["field"], answer["error"]) == ("title", "too_long")
    assert "personal data" in answer["message"] and "202" in answer["message"]

    path = f"/training/calls/{call.id}"
    form = {"start_s": "1", "end_s": "3", "title": FULL_TITLE, "tags": "", "notes": ""}
    page = trainer_client.post(f"{path}/clips", data={**form, "csrf_token": csrf_token(trainer_client, path)})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert f'value="{FULL_TITLE}"' in html  # the title as typed, identity code and all, to shorten
    assert "2 characters too long once its personal data is replaced" in html
    assert session.scalar(select(func.count()).select_from(TrainingClip)) == 0

    finnish = trainer_client.post(
        f"{path}/clips",
        data={**form, "csrf_token": csrf_token(trainer_client, path)},
        headers={"Accept-Language": "fi"},
    )
    assert finnish.status_code == 422 and f'value="{FULL_TITLE}"' in finnish.get_data(as_text=True)
