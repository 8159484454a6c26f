"""Its author deletes a clip even when its call is hidden from trainers now (restricted, or kept by an erasure for
a legal duty). Found by exploratory testing: deleting it was 404 "recording … not found", so its title, notes and
stored audio stayed until the call's retention ended, with no one able to remove them."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.errors import NotFound
from recordings_service.models import TrainingClip
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.training import clips
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.staff import client_of
from tests.factories.training import clip_row, trainer, training_call


@pytest.mark.parametrize("hidden_by", ["restricted", "erasure_kept"])
def test_the_author_deletes_a_clip_of_a_call_hidden_since_and_nobody_else_learns_of_it(
    session: Session, runtime: Runtime, hidden_by: str
) -> None:
    call = training_call(session, runtime.store, runtime.envelope)
    author, colleague = trainer(session), trainer(session)
    clip = clip_row(session, call, author)
    setattr(call, hidden_by, True)
    session.flush()

    with pytest.raises(NotFound, match="not found"):
        clips.delete_clip(session, actor=colleague, clip_id=clip.id)  # not told the clip's call exists
    keys = clips.delete_clip(session, actor=author, clip_id=clip.id)

    assert keys == [clip.opus_key, clip.mp3_key]
    assert session.get(TrainingClip, clip.id) is None


def test_the_authors_library_lists_a_clip_of_a_call_hidden_since_with_its_delete_button(
    app: Flask, session: Session, runtime: Runtime
) -> None:
    """Found by exploratory testing: the author could delete such a clip through the API only; no page listed it."""
    call = training_call(session, runtime.store, runtime.envelope)
    author_user, colleague_user = (make_user(session, role=Role.TRAINER) for _ in range(2))
    clip = clip_row(session, call, actor_of(author_user))
    call.restricted = True
    session.commit()
    author, colleague = client_of(app, author_user), client_of(app, colleague_user)

    mine = author.get("/training/clips/?mine=1").text

    assert f'id="clip-{clip.id}"' in mine
    row = mine[mine.index(f'id="clip-{clip.id}"') :].split("</tr>")[0]
    assert f"/training/clips/{clip.id}/delete" in row and "/edit" not in row
    assert f'id="clip-{clip.id}"' not in author.get("/training/clips/").text  # the whole library: calls in use only
    assert f'id="clip-{clip.id}"' not in colleague.get("/training/clips/?mine=1").text
    assert f'id="clip-{clip.id}"' not in colleague.get("/training/clips/").text
