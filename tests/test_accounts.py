"""Account use cases and the admin pages that drive them."""

from __future__ import annotations

import random
import re
import secrets
import string
import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from recordings_service import accounts, mfa, tokens
from recordings_service.audit import Actor
from recordings_service.db import make_sessionmaker, utcnow
from recordings_service.errors import Conflict, Invalid, NotFound, Unauthenticated
from recordings_service.models import AuditEvent, User
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import PASSWORD, SYSTEM, login, make_user, post_form, reloaded
from tests.page_text import visible_text
from web import cli, cli_support


def audited(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def actor_of(user: object) -> Actor:
    return Actor(id=user.id, name=user.username, role=user.role)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("length", "ok"), [(11, False), (12, True), (128, True), (129, False)])
def test_passwords_are_12_to_128_characters(session: Session, length: int, ok: bool) -> None:
    password = "".join(random.Random(length).choices(string.ascii_letters + string.digits, k=length))
    create = lambda: accounts.create_user(  # noqa: E731
        session, actor=SYSTEM, username=f"len{length}", role="trainer", password=password
    )
    if ok:
        assert accounts.password_matches(create().password_hash, password)
    else:
        with pytest.raises(Invalid) as error:
            create()
        assert error.value.field == "password"


def test_usernames_are_unique_ignoring_case(session: Session) -> None:
    accounts.create_user(session, actor=SYSTEM, username="Dana", role="trainer", password=PASSWORD)
    with pytest.raises(Conflict):
        accounts.create_user(session, actor=SYSTEM, username="dana", role="trainer", password=PASSWORD)
    assert accounts.find_user(session, " DANA ") is not None


@pytest.mark.parametrize("username", ["ÄäÖ", "äiti", "ｄａｎａ", "dana\u0301"])
def test_usernames_are_ascii(session: Session, username: str) -> None:
    """Found by exploratory testing: "ÄäÖ" was created but could never sign in (the databases' lower() folds
    ASCII only), and "äÄö" then made a second account."""
    with pytest.raises(Invalid) as refused:
        accounts.create_user(session, actor=SYSTEM, username=username, role="trainer", password=PASSWORD)
    assert refused.value.field == "username"


def test_disabling_spends_an_unused_enrolment_link(session: Session, envelope: Envelope) -> None:
    """Found by exploratory testing: enabling an account again brought back the link issued before it was
    disabled (which may be why it was disabled)."""
    admin = make_user(session, role=Role.ADMIN)
    user = make_user(session, role=Role.TRAINER)
    token = mfa.issue_enrolment_link(session, envelope, actor=actor_of(admin), user_id=user.id)
    accounts.disable_user(session, actor=actor_of(admin), user_id=user.id)
    accounts.enable_user(session, envelope, actor=actor_of(admin), user_id=user.id)
    with pytest.raises(NotFound):
        mfa.user_for_link(session, token=token, actor=SYSTEM)


def test_enabling_an_active_account_lifts_its_lockout(session: Session, envelope: Envelope) -> None:
    """Found by exploratory testing: `callvault users enable` says it lifts a lockout, but did nothing to an
    active account locked by wrong codes."""
    admin = make_user(session, role=Role.ADMIN)
    user = make_user(session, role=Role.TRAINER)
    user.locked_until = utcnow() + timedelta(minutes=15)
    accounts.enable_user(session, envelope, actor=actor_of(admin), user_id=user.id)
    assert user.locked_until is None and audited(session, "user.unlocked")


def test_enabling_says_what_it_did_and_audits_only_a_change(session: Session, envelope: Envelope) -> None:
    """Found by review: an active account that was not locked was reported (and audited) as unlocked or enabled."""
    admin = make_user(session, role=Role.ADMIN)
    user = make_user(session, role=Role.TRAINER)
    enable = lambda: accounts.enable_user(session, envelope, actor=actor_of(admin), user_id=user.id)  # noqa: E731
    assert enable() is accounts.Enabling.UNCHANGED
    user.locked_until = utcnow() - timedelta(seconds=1)  # a lockout that has run out
    assert enable() is accounts.Enabling.UNCHANGED
    assert not audited(session, "user.unlocked") and not audited(session, "user.enabled")
    user.locked_until = utcnow() + timedelta(minutes=15)
    assert enable() is accounts.Enabling.UNLOCKED
    accounts.disable_user(session, actor=actor_of(admin), user_id=user.id)
    assert enable() is accounts.Enabling.ENABLED
    assert len(audited(session, "user.unlocked")) == len(audited(session, "user.enabled")) == 1


def test_only_an_active_administrator_counts_as_one(session: Session) -> None:
    """Found by review: with only disabled administrators nobody could administer, yet `callvault run` saw an
    admin and offered none."""
    assert not accounts.has_active_admin(session)
    disabled = make_user(session, role=Role.ADMIN, active=False)
    make_user(session, role=Role.TRAINER)
    assert not accounts.has_active_admin(session)
    disabled.active = True
    session.flush()
    assert accounts.has_active_admin(session)


def test_the_last_active_administrator_cannot_be_disabled(session: Session) -> None:
    """Found by exploratory testing: `callvault users disable admin` left nobody who could manage accounts."""
    only = make_user(session, role=Role.ADMIN)
    with pytest.raises(Conflict):
        accounts.disable_user(session, actor=SYSTEM, user_id=only.id)
    assert only.active
    other = make_user(session, role=Role.ADMIN)
    accounts.disable_user(session, actor=SYSTEM, user_id=only.id)
    assert not only.active and other.active


def test_disable_enable_reset_and_role_change_are_audited_and_end_sessions(
    session: Session, envelope: Envelope
) -> None:
    admin = make_user(session, role=Role.ADMIN)
    user = make_user(session, role=Role.TRAINER, password=PASSWORD)
    version = user.session_version
    accounts.disable_user(session, actor=actor_of(admin), user_id=user.id)
    assert (user.active, user.session_version) == (False, version + 1)
    accounts.disable_user(session, actor=actor_of(admin), user_id=user.id)  # idempotent, audited once
    accounts.enable_user(session, envelope, actor=actor_of(admin), user_id=user.id)
    accounts.reset_password(session, actor=actor_of(admin), user_id=user.id)
    assert (user.password_hash, user.session_version) == (None, version + 2)
    accounts.change_role(session, actor=actor_of(admin), user_id=user.id, role="qa_supervisor")
    assert (user.role, user.session_version) == ("qa_supervisor", version + 3)
    [changed] = audited(session, "user.role_changed")
    assert (changed.actor_id, changed.object_id, changed.details) == (
        admin.id,
        user.id,
        {"from": "trainer", "to": "qa_supervisor"},
    )
    assert len(audited(session, "user.disabled")) == 1
    assert len(audited(session, "user.enabled")) == 1
    assert len(audited(session, "user.password_reset")) == 1


def test_refusals(session: Session) -> None:
    admin = make_user(session, role=Role.ADMIN)
    service = make_user(session, role=Role.SERVICE)
    with pytest.raises(Conflict):
        accounts.disable_user(session, actor=actor_of(admin), user_id=admin.id)
    with pytest.raises(Conflict):
        accounts.change_role(session, actor=actor_of(admin), user_id=admin.id, role="trainer")
    with pytest.raises(Invalid):
        accounts.change_role(session, actor=actor_of(admin), user_id=service.id, role="trainer")
    with pytest.raises(Invalid):
        accounts.change_role(session, actor=actor_of(admin), user_id=service.id, role="superuser")
    with pytest.raises(Invalid):
        accounts.reset_password(session, actor=actor_of(admin), user_id=service.id)
    with pytest.raises(Conflict):
        accounts.reset_password(session, actor=actor_of(admin), user_id=admin.id)
    with pytest.raises(NotFound):
        accounts.disable_user(session, actor=actor_of(admin), user_id="01NOSUCHUSER")


def test_mfa_is_required_for_every_person(session: Session) -> None:
    required = {role for role in Role if accounts.mfa_required(make_user(session, role=role))}
    assert required == {
        Role.ADMIN,
        Role.COMPLIANCE,
        Role.QA_SUPERVISOR,
        Role.TRAINER,
        Role.RESEARCH_PARTNER,
        Role.AGENT,
    }
    assert accounts.mfa_required(make_user(session, role=Role.TRAINER, mfa_secret="A" * 32))


# ---------------------------------------------------------------- admin pages


@pytest.fixture
def admin_client(client: FlaskClient, session: Session) -> FlaskClient:
    login(client, make_user(session, role=Role.ADMIN, username="root"))
    return client


def test_admin_lists_and_creates_users(admin_client: FlaskClient, session: Session) -> None:
    make_user(session, role=Role.TRAINER, username="tess")
    page = admin_client.get("/admin/users")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "tess" in page.get_data(as_text=True)

    form = admin_client.get("/admin/users/new").get_data(as_text=True)
    for control in ("username", "display_name", "role"):
        assert f'<label for="{control}">' in form
    assert '<label for="password">' not in form  # the holder chooses it, through the enrolment link
    bad = post_form(
        admin_client, "/admin/users/new", {"username": "new bie", "role": "trainer"}, token_from="/admin/users/new"
    )
    assert bad.status_code == 422
    created = post_form(
        admin_client,
        "/admin/users/new",
        {"username": "newbie", "role": "trainer", "display_name": "New Bie"},
        token_from="/admin/users/new",
    )
    assert created.status_code == 200
    assert "/enrol/" in created.get_data(as_text=True)
    newbie = accounts.user_by_username(session, "newbie")
    assert (newbie.role, newbie.display_name, newbie.password_hash) == ("trainer", "New Bie", None)
    assert audited(session, "user.created")[-1].object_id == newbie.id


def test_admin_changes_role_resets_password_and_enables(admin_client: FlaskClient, session: Session) -> None:
    user = make_user(session, role=Role.TRAINER, active=False)
    detail = f"/admin/users/{user.id}"
    assert admin_client.get(detail).status_code == 200
    assert post_form(admin_client, f"{detail}/role", {"role": "qa_supervisor"}, token_from=detail).status_code == 302
    assert reloaded(session, user).role == "qa_supervisor"
    assert audited(session, "user.role_changed")[-1].details == {"from": "trainer", "to": "qa_supervisor"}

    post_form(admin_client, f"{detail}/enable", {}, token_from=detail)
    assert reloaded(session, user).active
    assert post_form(admin_client, "/admin/users/01NOSUCHUSER/disable", {}, token_from=detail).status_code == 404


def test_admin_lists_and_revokes_tokens(admin_client: FlaskClient, session: Session) -> None:
    service = make_user(session, role=Role.SERVICE)
    other = make_user(session, role=Role.SERVICE)
    token, plain = tokens.create_token(session, actor=SYSTEM, user=service, scope="ingest")
    detail = f"/admin/users/{service.id}"
    page = admin_client.get(detail).get_data(as_text=True)
    assert token.id in page
    assert plain not in page
    wrong_owner = post_form(admin_client, f"/admin/users/{other.id}/tokens/{token.id}/revoke", {}, token_from=detail)
    assert wrong_owner.status_code == 404
    assert post_form(admin_client, f"{detail}/tokens/{token.id}/revoke", {}, token_from=detail).status_code == 302
    with pytest.raises(Unauthenticated):
        tokens.authenticate_token(session, plain)
    assert "revoked" in admin_client.get(detail).get_data(as_text=True)


def test_a_token_page_counts_the_days_left_and_never_says_in_0_days(
    admin_client: FlaskClient, session: Session
) -> None:
    """Found by exploratory testing: a token expiring in a few hours was shown as expiring "in 0 days"."""
    service = make_user(session, role=Role.SERVICE)
    lifetimes = {
        "hours": timedelta(hours=5),
        "one_day": timedelta(hours=30),
        "days": timedelta(days=12, hours=1),
        # Found by exploratory testing: a token just made for 5 days was shown "in 4 days", 90 days "in 89".
        "fresh": timedelta(days=5),
    }
    shown = {}
    for name, lifetime in lifetimes.items():
        token, _ = tokens.create_token(
            session, actor=SYSTEM, user=service, scope="ingest", source="pbx", lifetime=lifetime
        )
        shown[name] = token.id
    session.flush()
    # The account's page and the list of live tokens on the users page.
    for path in (f"/admin/users/{service.id}", "/admin/users"):
        page = " ".join(visible_text(admin_client.get(path).get_data(as_text=True)).split())
        rows = {name: page[page.index(token_id) :][:160] for name, token_id in shown.items()}
        assert "(within a day)" in rows["hours"], path
        assert "(in 1 day)" in rows["one_day"], path
        assert "(in 12 days)" in rows["days"], path
        assert "(in 5 days)" in rows["fresh"], path
        assert "in 0 days" not in page


def test_a_token_lifetime_beyond_what_a_date_holds_is_a_usage_error(
    runtime: Runtime, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by exploratory testing: `tokens create NAME --scope read --days 10000000000` printed a traceback
    (OverflowError from timedelta) instead of saying what lifetimes are allowed."""
    monkeypatch.setattr(cli_support, "load_runtime", lambda: runtime)
    make_user(session, role=Role.TRAINER, username="tina")
    result = CliRunner().invoke(cli.main, ["tokens", "create", "tina", "--scope", "read", "--days", "10000000000"])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a usage error, not an OverflowError
    assert "--days" in result.output and "730" in result.output


def test_the_role_form_sent_unchanged_says_nothing_changed(admin_client: FlaskClient, session: Session) -> None:
    """Found by exploratory testing: sending the role form with the account's own role said "Role changed; the
    account's sessions have ended." though nothing changed and no session ended."""
    user = make_user(session, role=Role.TRAINER)
    version = user.session_version
    detail = f"/admin/users/{user.id}"
    post_form(admin_client, f"{detail}/role", {"role": "trainer"}, token_from=detail)
    page = " ".join(visible_text(admin_client.get(detail).get_data(as_text=True)).split())
    assert "No change: the account already has that role." in page and "Role changed" not in page
    assert reloaded(session, user).session_version == version
    assert not audited(session, "user.role_changed")


def test_the_live_tokens_column_of_holders_is_not_called_your_account_in_finnish(
    admin_client: FlaskClient, session: Session
) -> None:
    """Found by exploratory testing: the live tokens' column of usernames was headed "Account", which Finnish
    translates as the menu's "Oma tili" (your own account), above other people's usernames."""
    service = make_user(session, role=Role.SERVICE, username="pbx")
    tokens.create_token(session, actor=SYSTEM, user=service, scope="ingest", source="pbx")
    page = admin_client.get("/admin/users", headers={"Accept-Language": "fi"}).get_data(as_text=True)
    table = page[page.index('id="tokens"') :]
    headers = re.findall(r'<th scope="col">([^<]*)</th>', table)
    assert "Oma tili" not in headers and "Käyttäjätunnus" in headers, headers


def test_the_new_account_form_chooses_no_role_for_the_admin(admin_client: FlaskClient, session: Session) -> None:
    """Found by exploratory testing: the role list started on "administrator", so an account created without
    touching it was an administrator's."""
    form = admin_client.get("/admin/users/new").get_data(as_text=True)
    select = form[form.index('<select id="role"') : form.index("</select>", form.index('<select id="role"'))]
    assert re.search(r'<option value="" selected>', select)
    assert not re.search(r'<option value="admin" selected', select)
    refused = post_form(
        admin_client, "/admin/users/new", {"username": "hasty", "role": ""}, token_from="/admin/users/new"
    )
    assert refused.status_code == 422 and accounts.find_user(session, "hasty") is None
    assert 'value="hasty"' in refused.get_data(as_text=True)


def test_a_display_name_longer_than_its_column_is_refused(session: Session) -> None:
    """Found by exploratory testing: `callvault users create NAME --display-name <201+ characters>` was stored as
    given (SQLite) or failed with a database traceback (PostgreSQL); the web form cut it to 200 silently."""
    with pytest.raises(Invalid) as refused:
        accounts.create_user(
            session, actor=SYSTEM, username="longname", role="trainer", password=None, display_name="x" * 201
        )
    assert refused.value.field == "display_name"
    made = accounts.create_user(
        session, actor=SYSTEM, username="fitting", role="trainer", password=None, display_name=f" {'y' * 200} "
    )
    assert made.display_name == "y" * 200


def test_the_users_list_tells_a_person_not_enrolled_from_a_service_account(
    admin_client: FlaskClient, session: Session
) -> None:
    """Found by exploratory testing: the two-factor column showed "—" both for a person who had not enrolled yet and
    for a service account (which has no second factor), so the list could not tell who still had to enrol."""
    make_user(session, role=Role.TRAINER, username="pending")
    make_user(session, role=Role.SERVICE, username="pbx")
    page = admin_client.get("/admin/users").get_data(as_text=True)
    rows = {name: re.sub(r"<[^>]+>", " ", row) for name, row in re.findall(r">([a-z]+)</a></td>(.*?)</tr>", page, re.S)}
    assert "not enrolled" in rows["pending"]
    assert "not enrolled" not in rows["pbx"] and "—" in rows["pbx"]


def test_two_creations_of_one_name_at_once_refuse_the_later_as_taken(engine: Engine) -> None:
    """Found by review: a double-clicked Create sends the form twice; the second request passed the name check
    before the first committed, then met the unique name at insert, an IntegrityError and a 500."""
    sessions = make_sessionmaker(engine)
    username = f"race-{secrets.token_hex(4)}"
    outcome: list[object] = []

    def second() -> None:
        with sessions() as session:
            try:
                accounts.create_user(session, actor=SYSTEM, username=username, role="trainer", password=None)
                session.commit()
                outcome.append("created")
            except Exception as exc:  # whatever it is, the assertion below names it
                outcome.append(exc)

    try:
        with sessions() as first:
            accounts.create_user(first, actor=SYSTEM, username=username, role="trainer", password=None)
            first.flush()
            racer = threading.Thread(target=second)
            racer.start()
            racer.join(timeout=1.0)  # it waits on the first one's uncommitted row
            assert racer.is_alive(), "the second creation did not wait for the first"
            first.commit()
        racer.join(timeout=30)
        assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
        assert outcome[0].why == "username_taken"
    finally:
        with sessions() as session:
            session.execute(delete(User).where(User.username == username))
            session.commit()
