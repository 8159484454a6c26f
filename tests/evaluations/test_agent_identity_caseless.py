"""An agent account is its agent in any letter case and either Unicode form, as plans, search and trends match the
agent: an account "FI-4021" saw nothing of the evaluations released of its calls the telephony system sent as
"fi-4021" (those the QA lead's plan gave it), and a second account "fi-4021" could be made for the same agent."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy.orm import Session

from recordings_service import accounts, agent_accounts
from recordings_service.errors import Conflict
from recordings_service.evaluations import feedback, history
from recordings_service.models import EvaluationForm, User
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import SYSTEM, make_user, post_form
from tests.factories.evaluations import actor_of, evaluation_token, make_agent_user, released
from tests.factories.recordings import make_recording
from tests.factories.staff import client_of
from web import cli, cli_support

DECOMPOSED = "A\u0308nna.K"  # "Änna.K" typed with A + U+0308 (a Mac's keyboard)


@pytest.mark.parametrize(("account", "sent"), [("FI-4021", "fi-4021"), ("änna.k", DECOMPOSED)])
def test_an_agent_sees_the_evaluations_released_of_its_calls_sent_in_another_letter_case(
    app: Flask,
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    supervisor: User,
    form: EvaluationForm,
    account: str,
    sent: str,
) -> None:
    call = make_recording(session, store, envelope, agent_ref=sent)
    evaluation = released(session, supervisor, form, call, ["yes", "5", "no"])
    agent = make_agent_user(session, account)
    colleague = make_agent_user(session, "fi-4022")
    mine = evaluation_token(session, agent)
    session.commit()

    assert [item.id for item in feedback.my_feedback(session, actor=actor_of(agent))] == [evaluation.id]
    assert [item.id for item in feedback.my_feedback(session, actor=actor_of(colleague))] == []
    listed = history.list_evaluations(session, actor=actor_of(agent)).items
    assert [item.evaluation.id for item in listed] == [evaluation.id]
    listed = app.test_client().get("/api/v1/feedback", headers=mine)
    assert [item["id"] for item in listed.get_json()["items"]] == [evaluation.id]
    assert app.test_client().get(f"/api/v1/feedback/{evaluation.id}", headers=mine).status_code == 200

    page = client_of(app, agent)
    assert f"/feedback/{evaluation.id}" in page.get("/feedback/").get_data(as_text=True)
    assert page.get(f"/calls/{call.id}").status_code == 200  # the call's audio and transcript
    disputed = page.post(
        f"/api/v1/evaluations/{evaluation.id}/dispute", json={"comment": "I did offer it"}, headers=mine
    )
    assert disputed.status_code == 200, disputed.get_data(as_text=True)
    other = client_of(app, colleague)
    assert other.get(f"/calls/{call.id}").status_code == 404
    assert other.get(f"/feedback/{evaluation.id}").status_code == 404


def test_a_second_agent_account_for_the_same_agent_in_another_letter_case_is_refused(
    app: Flask, session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = accounts.create_user(
        session, actor=SYSTEM, username="liisa", role="agent", password=None, agent_ref="FI-4021"
    )
    other = accounts.create_user(
        session, actor=SYSTEM, username="matti", role="agent", password=None, agent_ref="Änna.K"
    )
    for same in ("fi-4021", "Fi-4021"):
        with pytest.raises(Conflict) as refused:
            accounts.create_user(session, actor=SYSTEM, username="lisa", role="agent", password=None, agent_ref=same)
        assert (refused.value.why, refused.value.field) == ("agent_ref_taken", "agent_ref")
    with pytest.raises(Conflict):
        agent_accounts.change_agent_ref(session, actor=SYSTEM, user_id=first.id, agent_ref=DECOMPOSED.lower())
    # An account's own ref in another letter case is a correction of its spelling, not another agent's ref.
    corrected = agent_accounts.change_agent_ref(session, actor=SYSTEM, user_id=other.id, agent_ref=DECOMPOSED)
    assert corrected.agent_ref == DECOMPOSED
    session.commit()

    admin = client_of(app, make_user(session, role=Role.ADMIN))
    session.commit()
    page = post_form(
        admin,
        "/admin/users/new",
        {"username": "lisa", "role": "agent", "agent_ref": "fi-4021"},
        token_from="/admin/users/new",
    )
    assert page.status_code == 422  # the form again, as for the same ref in the same letter case
    refused_page = page.get_data(as_text=True)
    assert "another account has this agent ref already" in refused_page
    assert 'name="agent_ref" value="fi-4021" maxlength="100" aria-invalid="true"' in refused_page

    monkeypatch.setattr(cli_support, "load_runtime", lambda: runtime)
    result = CliRunner().invoke(cli.main, ["users", "create", "lisa", "--role", "agent", "--agent-ref", "fi-4021"])
    assert (result.exit_code, result.output) == (1, "Error: agent_ref: another account is already agent FI-4021\n")
    assert accounts.find_user(session, "lisa") is None
