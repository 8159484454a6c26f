"""A master key lost for good that sealed staff's TOTP seeds: the way out is resetting those second factors, and the
operator learns whose from `callvault users list`, which (with `users disable`, `reset-mfa` and `enrolment-link`) runs
without that part of the check of the keyset. Found by an operator's drill: the refusal counted the second factors
but named nobody, every command that could name them was refused too, and `users enable` of a disabled account whose
seed the keyset could not open was accepted, after which every process's start was refused."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pyotp
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from recordings_service import accounts, mfa
from recordings_service.db import make_sessionmaker
from recordings_service.errors import Conflict
from recordings_service.models.account import Role, User
from recordings_service.runtime import ForeignMasterKey, Runtime
from recordings_service.storage.encryption import Envelope, generate_master_key
from tests.factories.accounts import SYSTEM, csrf_token, login, make_enrolled_user, make_user, reloaded
from tests.factories.audit import events
from tests.factories.keysets import only_primary, rotated
from tests.factories.recordings import make_recording
from tests.page_text import visible_text
from web import cli, cli_support


def _lost_key(runtime: Runtime, own_engine: Engine) -> tuple[Runtime, Runtime]:
    """The runtime on a database of the test's own, and the same with a keyset that lost its old key for good."""
    runtime = replace(runtime, engine=own_engine, sessions=make_sessionmaker(own_engine))
    return runtime, replace(runtime, envelope=Envelope(only_primary(rotated(runtime.settings.master_key))))


def _cli(monkeypatch: pytest.MonkeyPatch, lost: Runtime) -> Any:
    """`callvault` whose `load_runtime` checks the keys as the real one does (the second factors unless told not to)."""

    def load_runtime(**given: Any) -> Runtime:
        lost.check_keys(second_factors=given.get("second_factors", True))
        return lost

    monkeypatch.setattr(cli_support, "load_runtime", load_runtime)
    return lambda *args: CliRunner().invoke(cli.main, list(args))


def _mfa_column(listed: Result) -> dict[str, str]:
    lines = [line.split("\t") for line in listed.stdout.splitlines()]
    column = lines[0].index("mfa")
    return {row[0]: row[column] for row in lines[1:]}


def test_users_list_names_the_second_factors_to_reset_and_the_refusal_points_to_it(
    runtime: Runtime, own_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime, lost = _lost_key(runtime, own_engine)
    with runtime.sessions() as session:
        for name in ("alice", "dave"):
            make_enrolled_user(session, runtime.envelope, username=name)
        carol, _ = make_enrolled_user(session, runtime.envelope, username="carol")
        carol.active = False
        make_enrolled_user(session, lost.envelope, username="bob")  # enrolled after the rotation: opens
        make_user(session, role=Role.SERVICE, username="pbx")
        session.commit()
    with pytest.raises(ForeignMasterKey) as refused:
        lost.check_keys()
    run = _cli(monkeypatch, lost)

    listed = run("users", "list")
    link = run("users", "enrolment-link", "bob")
    refused_elsewhere = run("tokens", "list")  # every other command keeps the whole check
    disabled = run("users", "disable", "dave")
    reset = run("users", "reset-mfa", "alice")
    lost.check_keys()  # dave disabled, alice reset: nothing active needs the lost key (carol, disabled, does not count)

    said = str(refused.value)
    assert "`callvault users list` names the accounts" in said and "reset-mfa NAME" in said, said
    assert not any(name in said for name in ("alice", "carol", "dave")), said  # logged: no personal data
    assert listed.exit_code == 0, listed.output
    unread = "unreadable: reset-mfa"
    assert _mfa_column(listed) == {"alice": unread, "bob": "yes", "carol": unread, "dave": unread, "pbx": "-"}
    assert link.exit_code == 0 and "/enrol/" in link.stdout, link.output
    assert refused_elsewhere.exit_code == 1 and "(2 second factors)" in refused_elsewhere.output
    assert disabled.exit_code == 0 and reset.exit_code == 0, disabled.output + reset.output


def test_a_disabled_account_whose_second_factor_is_unreadable_is_enabled_only_after_its_reset(
    runtime: Runtime, own_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime, lost = _lost_key(runtime, own_engine)
    with runtime.sessions() as session:
        departed, _ = make_enrolled_user(session, runtime.envelope, username="departed")
        departed.active = False
        session.commit()
    lost.check_keys()  # a disabled account's seed does not count
    run = _cli(monkeypatch, lost)

    refused = run("users", "enable", "departed")
    with runtime.sessions() as session:
        # On the trail as the admin page's refusal is (the CLI wrote no refusal events before).
        [audited] = [(event.actor_name, event.object_id) for event in events(session, "user.enable_refused")]
    lost.check_keys()  # before: enabled, and every start after it refused "(1 second factors)"
    reset = run("users", "reset-mfa", "departed")  # before: refused "enable the account first", nothing reset
    enabled = run("users", "enable", "departed")
    lost.check_keys()
    link = run("users", "enrolment-link", "departed")

    assert refused.exit_code == 1 and "reset it first (callvault users reset-mfa departed" in refused.output
    assert audited == ("cli", departed.id)
    assert reset.exit_code == 0 and "enable it, then `callvault users enrolment-link departed`" in reset.output
    assert reset.stdout == "", reset.stdout  # standard output carries a link only, and there is none
    assert enabled.exit_code == 0 and link.exit_code == 0 and "/enrol/" in link.stdout, enabled.output + link.output


def test_enabling_refuses_a_second_factor_the_keyset_cannot_open_and_the_refusal_is_audited(
    session: Session, envelope: Envelope
) -> None:
    foreign = Envelope(generate_master_key())
    departed = make_user(session, role=Role.TRAINER, active=False)
    departed.mfa_seed = mfa.seal_seed(foreign, departed, pyotp.random_base32())
    readable, _ = make_enrolled_user(session, envelope)
    readable.active = False
    session.flush()

    with pytest.raises(Conflict) as refused:
        accounts.enable_user(session, envelope, actor=SYSTEM, user_id=departed.id)
    done = accounts.enable_user(session, envelope, actor=SYSTEM, user_id=readable.id)

    assert refused.value.why == "second_factor_unreadable" and f"key id {foreign.master_key_id}" in str(refused.value)
    assert refused.value.refusal is not None and refused.value.refusal.action == "user.enable_refused"
    assert refused.value.refusal.details == {"reason": "second_factor_unreadable"}
    assert not departed.active and done is accounts.Enabling.ENABLED


def test_the_admin_page_refuses_the_enabling_in_finnish_too_and_resets_a_disabled_accounts_second_factor(
    app: Flask, session: Session
) -> None:
    admin = app.test_client()
    login(admin, make_user(session, role=Role.ADMIN))
    departed = make_user(session, role=Role.TRAINER, active=False)
    departed.mfa_seed = mfa.seal_seed(Envelope(generate_master_key()), departed, pyotp.random_base32())
    session.flush()
    detail = f"/admin/users/{departed.id}"
    finnish = {"Accept-Language": "fi"}

    def post(action: str, **headers: str) -> int:
        data = {"csrf_token": csrf_token(admin, detail)}
        return admin.post(f"{detail}/{action}", data=data, headers=headers).status_code

    refused = post("enable", **finnish)
    refused_page = " ".join(visible_text(admin.get(detail, headers=finnish).get_data(as_text=True)).split())
    reset = post("mfa")  # before: refused "enable the account first", and the reset rolled back with the link
    reset_page = " ".join(visible_text(admin.get(detail).get_data(as_text=True)).split())
    enabled = post("enable")

    assert refused == 302 and "nollaa ensin sen kaksivaiheinen tunnistautuminen" in refused_page, refused_page
    assert [event.object_id for event in events(session, "user.enable_refused")] == [departed.id]
    assert reset == 302 and "enable it, then issue a new enrolment link" in reset_page, reset_page
    assert enabled == 302 and reloaded(session, departed).active and not departed.mfa_enrolled


def test_the_refusal_offers_the_reset_only_where_it_runs(runtime: Runtime, own_engine: Engine) -> None:
    """A review: with the lost key also needed by stored calls, the refusal still advised `users reset-mfa`, which
    is itself refused then (it checks everything but the second factors)."""
    runtime, lost = _lost_key(runtime, own_engine)
    with runtime.sessions() as session:
        make_enrolled_user(session, runtime.envelope)
        make_recording(session, runtime.store, runtime.envelope)
        session.commit()
    with lost.sessions() as session:
        make_recording(session, runtime.store, lost.envelope)  # the newest call opens
        session.commit()

    with pytest.raises(ForeignMasterKey) as refused:
        lost.check_keys()
    with pytest.raises(ForeignMasterKey):
        lost.check_keys(second_factors=False)  # what `users reset-mfa` runs with

    said = str(refused.value)
    assert "(1 second factors)" in said and "(1 calls)" in said and "reset-mfa" not in said, said


def test_a_readable_second_factor_is_listed_as_enrolled(session: Session, envelope: Envelope) -> None:
    user: User = make_enrolled_user(session, envelope)[0]
    assert user.mfa_seed is not None and not envelope.lacks_key_of(user.mfa_seed)
    assert Envelope(generate_master_key()).lacks_key_of(user.mfa_seed)
