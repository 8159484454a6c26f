"""The research pages as compliance and partners use them: institutes, selecting a batch, four-eyes approval
(the refusal shown), the overdue list, the partner's portal (isolation, window, confirmation with a PDF), and
partner accounts tied to an institute (CLI and admin page)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service import accounts
from recordings_service.db import utcnow
from recordings_service.models import Institute, ResearchBatch, User
from recordings_service.models.account import Role
from recordings_service.models.research import BatchState
from recordings_service.research.confirmations import MAX_CERTIFICATE_BYTES
from recordings_service.runtime import Runtime
from tests.factories.accounts import PASSWORD, csrf_token, login, make_user, post_form
from tests.factories.audit import events
from tests.factories.privacy import customer
from tests.factories.research import as_ready, downloaded, draft, institute, partner, research_call
from tests.factories.staff import client_of
from web import cli, cli_support

INSTITUTES, NEW_BATCH, NEW_USER = "/research/institutes/", "/research/batches/new", "/admin/users/new"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# ---------------------------------------------------------------- compliance


def test_institutes_show_the_transfer_gap_until_a_safeguard_is_recorded(
    officer_client: FlaskClient, session: Session
) -> None:
    form = {"agreement_ref": "DPA-7", "agreement_date": "2026-10-01", "contact": "lab@example.org"}
    made = post_form(
        officer_client, INSTITUTES, {**form, "name": "Tampere lab", "country": "fi"}, token_from=INSTITUTES
    )
    assert made.status_code == 302
    bad = post_form(officer_client, INSTITUTES, {**form, "name": "Nowhere lab", "country": "XX"}, token_from=INSTITUTES)
    assert bad.status_code == 422 and "not an ISO 3166 country code" in bad.get_data(as_text=True)
    assert (
        post_form(
            officer_client, INSTITUTES, {**form, "name": "Pune lab", "country": "IN"}, token_from=INSTITUTES
        ).status_code
        == 302
    )

    page = officer_client.get("/research/institutes/").get_data(as_text=True)
    assert "Tampere lab" in page and "Pune lab" in page and "Nowhere lab" not in page
    assert "Pune lab is outside the EU/EEA (IN) and has no transfer safeguard" in page
    pune = session.scalars(select(Institute).where(Institute.name == "Pune lab")).one()
    path = f"/research/institutes/{pune.id}/safeguard"
    typed = {"safeguard_kind": "scc", "safeguard_reference": "SCC-2021/914-M2"}
    missing = post_form(officer_client, path, typed, token_from="/research/institutes/")
    refused = missing.get_data(as_text=True)  # the page again, the reference kept and the missing date marked
    assert missing.status_code == 422 and "standard contractual clauses need their reference and date" in refused
    assert f'id="ref-{pune.id}" name="safeguard_reference" maxlength="200" value="SCC-2021/914-M2"' in refused
    assert f'id="date-{pune.id}" name="safeguard_date" type="date" value="" aria-invalid="true"' in refused
    clauses = {"safeguard_kind": "scc", "safeguard_reference": "SCC-2021/914-M2", "safeguard_date": "2026-10-02"}
    assert post_form(officer_client, path, clauses, token_from="/research/institutes/").status_code == 302
    page = officer_client.get("/research/institutes/").get_data(as_text=True)
    assert "Transfer safeguard recorded" in page and "has no transfer safeguard" not in page
    assert "SCC-2021/914-M2" in page


def test_the_batch_form_selects_and_shows_the_exclusions(
    officer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    lab = institute(session, name="Oulu lab")
    objector = customer(session)
    today = utcnow().date()
    access_end = today + timedelta(days=45)
    objector.objects_to_research = True
    for _ in range(3):
        research_call(session, runtime.store, runtime.envelope)
    research_call(session, runtime.store, runtime.envelope, customer_id=objector.id)
    research_call(session, runtime.store, runtime.envelope, transcribed=False)
    session.commit()
    page = officer_client.get(f"/research/batches/new?institute_id={lab.id}").get_data(as_text=True)
    assert f'<option value="{lab.id}" selected>' in page and 'name="seed"' in page

    form = {
        "study": "Estimated bills",
        "purpose": "How agents explain estimated bills",
        "institute_id": lab.id,
        "from": "2026-11-01",
        "to": "2026-11-30",
        "queues": "",
        "sample_size": "10",
        "seed": "",
        "study_end": (access_end + timedelta(days=180)).isoformat(),
        "access_start": f"{today.isoformat()}T08:00",
        "access_end": f"{access_end.isoformat()}T16:00",
        "audio": "redacted",
    }
    data = {**form, "csrf_token": csrf_token(officer_client, "/research/batches/new")}
    response = officer_client.post(
        "/research/batches/new", data={**data, "directions": ["inbound", "outbound"], "metadata_fields": ["queue"]}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    made = session.scalars(select(ResearchBatch).where(ResearchBatch.study == "Estimated bills")).one()
    assert (made.selected, made.excluded) == (3, {"objects_to_research": 1, "not_transcribed": 1})
    # The window is typed in the organisation's time (CALLVAULT_TIMEZONE) and kept in UTC.
    typed_end = datetime.combine(access_end, time(16), tzinfo=ZoneInfo("Europe/Helsinki"))
    assert made.metadata_fields == ["queue"] and made.access_end == typed_end.astimezone(UTC)
    detail = officer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 calls selected, 2 excluded" in detail
    assert "the customer objects to research" in detail and "no redacted transcript yet" in detail

    wrong = post_form(officer_client, NEW_BATCH, {**form, "to": "2026-10-01"}, token_from=NEW_BATCH)
    assert wrong.status_code == 422 and "&#39;to&#39; is before &#39;from&#39;" in wrong.get_data(as_text=True)
    late = post_form(
        officer_client,
        NEW_BATCH,
        {**form, "study_end": (access_end - timedelta(days=1)).isoformat()},
        token_from=NEW_BATCH,
    )
    assert late.status_code == 422 and "the study cannot end before the access window does" in late.get_data(
        as_text=True
    )
    # Found by exploratory testing: "inf" was taken as a duration, and the batch selected nothing.
    endless = post_form(officer_client, NEW_BATCH, {**form, "min_duration_s": "inf"}, token_from=NEW_BATCH)
    assert endless.status_code == 422 and 'name="min_duration_s"' in endless.get_data(as_text=True)
    # A moment before year 1 in UTC was a 500.
    ancient = post_form(
        officer_client, NEW_BATCH, {**form, "access_start": "0001-01-01T00:00+01:00"}, token_from=NEW_BATCH
    )
    assert ancient.status_code == 422
    assert session.scalar(select(func.count()).select_from(ResearchBatch)) == 1


def test_self_approval_is_refused_on_the_page_and_a_second_officer_approves(
    app: Flask, officer_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    made = draft(session, runtime, officer, institute(session).id)
    session.commit()
    path = f"/research/batches/{made.id}"
    # The creator is not offered what would be refused; a hand-made request is refused all the same.
    assert f'action="{path}/approve"' not in officer_client.get(path).get_data(as_text=True)

    refused = post_form(officer_client, f"{path}/approve", {}, token_from=path)
    assert refused.status_code == 302
    page = officer_client.get(path).get_data(as_text=True)
    assert "four-eyes rule: the batch&#39;s creator cannot approve it" in page
    assert events(session, "research.approval_refused", made.id)
    session.expire_all()
    assert session.get_one(ResearchBatch, made.id).state == BatchState.DRAFT

    second = client_of(app, make_user(session, role=Role.COMPLIANCE, username="second-officer"))
    assert f'action="{path}/approve"' in second.get(path).get_data(as_text=True)
    assert post_form(second, f"{path}/approve", {}, token_from=path).status_code == 302
    page = second.get(path).get_data(as_text=True)
    assert "Batch approved" in page and "approved, waiting for the build" in page and "second-officer" in page
    assert "0 of 1 calls" in page


def test_rejection_needs_a_reason(app: Flask, officer: User, session: Session, runtime: Runtime) -> None:
    made = draft(session, runtime, officer, institute(session).id)
    session.commit()
    second = client_of(app, make_user(session, role=Role.COMPLIANCE))
    path = f"/research/batches/{made.id}"
    post_form(second, f"{path}/reject", {"reason": "  "}, token_from=path)
    assert "Give the reason for the rejection" in second.get(path).get_data(as_text=True)
    assert (
        post_form(second, f"{path}/reject", {"reason": "the purpose is too broad"}, token_from=path).status_code == 302
    )
    page = second.get(path).get_data(as_text=True)
    assert "Batch rejected" in page and "the purpose is too broad" in page and "Approve the batch" not in page


def test_overdue_batches_come_first_in_the_list_and_on_the_dashboard(
    officer_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    lab = institute(session).id
    late = draft(session, runtime, officer, lab, study="Late study")
    draft(session, runtime, officer, lab, study="Newer study")
    late.state = BatchState.OVERDUE
    session.commit()
    listing = officer_client.get("/research/").get_data(as_text=True)
    assert listing.index("Late study") < listing.index("Newer study") and "overdue" in listing
    dashboard = officer_client.get("/dashboard").get_data(as_text=True)
    assert "Overdue research batches" in dashboard and "Late study" in dashboard
    assert dashboard.index("Overdue research batches") < dashboard.index("Transcription")
    assert 'href="/research/"' in dashboard  # the navigation link


def test_other_staff_are_refused(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    assert client.get("/research/").status_code == 403
    assert client.get("/research/institutes/").status_code == 403
    assert 'href="/research/"' not in client.get("/dashboard").get_data(as_text=True)


# ---------------------------------------------------------------- partners


def test_a_partner_sees_its_own_batches_only(app: Flask, officer: User, session: Session, runtime: Runtime) -> None:
    ours, theirs = institute(session), institute(session)
    mine = draft(session, runtime, officer, ours.id, study="Our study")
    other = draft(session, runtime, officer, theirs.id, study="Their study")
    hidden = draft(session, runtime, officer, ours.id, study="Draft study")
    for batch in (mine, other):
        as_ready(batch)
    downloaded(session, mine)
    session.commit()
    client = client_of(app, partner(session, ours.id))
    listing = client.get("/partner/").get_data(as_text=True)
    assert "Our study" in listing and "Their study" not in listing and "Draft study" not in listing
    assert client.get(f"/partner/batches/{other.id}").status_code == 404
    assert client.get(f"/partner/batches/{hidden.id}").status_code == 404
    assert events(session, "research.partner_refused", other.id)
    page = client.get(f"/partner/batches/{mine.id}").get_data(as_text=True)
    assert f"/api/v1/research/batches/{mine.id}/package" in page
    finnish = client.get(f"/partner/batches/{mine.id}", headers={"Accept-Language": "fi"}).get_data(as_text=True)
    assert "Lataa paketti (ZIP)" in finnish and "Lähetä vahvistus" in finnish


def ready_for_partner(
    app: Flask, session: Session, runtime: Runtime, officer: User, *, opens_in: timedelta
) -> tuple[ResearchBatch, FlaskClient]:
    """A ready batch whose window opens `opens_in` from now and closes in five days, and its partner signed in."""
    lab = institute(session).id
    made = as_ready(draft(session, runtime, officer, lab))
    made.access_start, made.access_end = utcnow() + opens_in, utcnow() + timedelta(days=5)
    session.commit()
    return made, client_of(app, partner(session, lab))


def test_the_download_shows_only_inside_the_window(
    app: Flask, officer: User, session: Session, runtime: Runtime
) -> None:
    made, client = ready_for_partner(app, session, runtime, officer, opens_in=timedelta(days=1))
    page = client.get(f"/partner/batches/{made.id}").get_data(as_text=True)
    assert "has not opened yet" in page and "/package" not in page
    made.state = BatchState.EXPIRED
    made.access_start, made.access_end = utcnow() - timedelta(days=5), utcnow() - timedelta(days=1)
    downloaded(session, made)
    session.commit()
    page = client.get(f"/partner/batches/{made.id}").get_data(as_text=True)
    assert "The download window closed" in page and "/package" not in page
    assert "Send the confirmation" in page


def test_once_the_partner_confirms_the_copies_are_gone_the_page_offers_no_download(
    app: Flask, officer: User, session: Session, runtime: Runtime
) -> None:
    made, client = ready_for_partner(app, session, runtime, officer, opens_in=-timedelta(days=1))
    downloaded(session, made)
    session.commit()
    path = f"/partner/batches/{made.id}"
    assert "/package" in client.get(path).get_data(as_text=True)
    fields = {"method": "destroyed", "confirmed_on": utcnow().date().isoformat(), "signer": "Dr. A. Researcher"}
    fields |= {"title": "Head of lab", "statement": "Every copy was deleted.", "csrf_token": csrf_token(client, path)}
    assert client.post(f"{path}/confirmation", data=fields, content_type="multipart/form-data").status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "the package is not downloaded again" in page and "/package" not in page


def test_a_refused_confirmation_says_why_in_the_partners_language(
    app: Flask, officer: User, session: Session, runtime: Runtime
) -> None:
    """The portal showed the service's English message to a Finnish partner (the other pages translate it)."""
    made, client = ready_for_partner(app, session, runtime, officer, opens_in=-timedelta(days=1))
    downloaded(session, made)
    session.commit()
    path = f"/partner/batches/{made.id}"
    in_a_week = (utcnow().date() + timedelta(days=7)).isoformat()
    fields = {"method": "destroyed", "confirmed_on": in_a_week, "signer": "Dr. A. Researcher", "title": "Head of lab"}
    fields |= {"statement": "Every copy was deleted.", "csrf_token": csrf_token(client, path)}
    response = client.post(
        f"{path}/confirmation", data=fields, content_type="multipart/form-data", headers={"Accept-Language": "fi"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "palautus tai hävittäminen ei voi olla tulevaisuudessa" in page
    assert "cannot be in the future" not in page and "Every copy was deleted." in page


def test_confirmation_with_a_certificate_then_rejected_then_accepted(
    app: Flask, officer_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    lab = institute(session).id
    made = draft(session, runtime, officer, lab)
    made.state = BatchState.EXPIRED
    downloaded(session, made)
    session.commit()
    client = client_of(app, partner(session, lab))
    path = f"/partner/batches/{made.id}"
    fields = {"method": "destroyed", "confirmed_on": utcnow().date().isoformat(), "signer": "Dr. A. Researcher"}
    fields |= {"title": "Head of lab", "statement": "Every copy was deleted from our systems."}

    def send(certificate: bytes) -> str:
        data = {**fields, "csrf_token": csrf_token(client, path), "certificate": (io.BytesIO(certificate), "c.pdf")}
        response = client.post(f"{path}/confirmation", data=data, content_type="multipart/form-data")
        return f"{response.status_code} {response.get_data(as_text=True)}"

    assert send(b"MZ\x90 not a pdf").startswith("422") and "must be a PDF document" in send(b"MZ")
    assert send(b"%PDF" + b"x" * (MAX_CERTIFICATE_BYTES + 70_000)).startswith("413 ")
    assert send(PDF).startswith("302")
    assert "waiting for compliance" in client.get(path).get_data(as_text=True)

    detail = f"/research/batches/{made.id}"
    page = officer_client.get(detail).get_data(as_text=True)
    assert "Dr. A. Researcher" in page and "Download the PDF" in page
    [confirmation_id] = [
        event.details["confirmation_id"] for event in events(session, "research.confirmation_submitted", made.id)
    ]
    certificate = officer_client.get(f"/research/confirmations/{confirmation_id}/certificate")
    assert (certificate.status_code, certificate.data, certificate.mimetype) == (200, PDF, "application/pdf")
    post_form(officer_client, f"{detail}/confirmation/reject", {"reason": "sign it, please"}, token_from=detail)
    page = client.get(path).get_data(as_text=True)
    assert "rejected: sign it, please" in page and "Send the confirmation" in page

    assert send(PDF).startswith("302")
    post_form(officer_client, f"{detail}/confirmation/accept", {}, token_from=detail)
    assert "Confirmation accepted" in officer_client.get(detail).get_data(as_text=True)
    session.expire_all()
    closed = session.get_one(ResearchBatch, made.id)
    assert (closed.state, closed.pseudonym_key) == (BatchState.CLOSED, None)
    assert "Send the confirmation" not in client.get(path).get_data(as_text=True)


def test_a_partner_account_without_an_institute_sees_nothing(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.RESEARCH_PARTNER))
    assert "No batches have been released" in client.get("/partner/").get_data(as_text=True)
    assert client.get("/partner/batches/01JZZZZZZZZZZZZZZZZZZZZZZZ").status_code == 404


# ---------------------------------------------------------------- partner accounts


def test_the_cli_ties_a_partner_to_an_existing_institute(
    runtime: Runtime, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_support, "load_runtime", lambda: runtime)
    lab = institute(session).id
    session.commit()

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli.main, ["users", "create", *args, "--password-stdin"], input=PASSWORD + "\n")
        return result.exit_code, result.output

    code, output = run("lena", "--role", "research_partner")
    assert code == 2 and "needs --institute" in output
    code, output = run("lena", "--role", "trainer", "--institute", lab)
    assert code == 2 and "only for research_partner" in output
    code, output = run("lena", "--role", "research_partner", "--institute", "01JZZZZZZZZZZZZZZZZZZZZZZZ")
    assert code == 1 and "no institute with id 01JZZZZZZZZZZZZZZZZZZZZZZZ" in output
    code, output = run("lena", "--role", "research_partner", "--institute", lab)
    assert code == 0, output
    assert accounts.user_by_username(session, "lena").institute_id == lab


def test_the_admin_page_requires_an_institute_for_partners(app: Flask, session: Session) -> None:
    lab = institute(session, name="Turku lab")
    session.commit()
    admin = client_of(app, make_user(session, role=Role.ADMIN))
    page = admin.get("/admin/users/new").get_data(as_text=True)
    assert f'<option value="{lab.id}"' in page and "Turku lab" in page
    form = {"username": "pia", "role": "research_partner", "password": PASSWORD, "institute_id": ""}
    refused = post_form(admin, NEW_USER, form, token_from=NEW_USER)
    assert refused.status_code == 422 and "must belong to an institute" in refused.get_data(as_text=True)
    # Created: the answer is the page with the holder's one-time enrolment link.
    assert post_form(admin, NEW_USER, {**form, "institute_id": lab.id}, token_from=NEW_USER).status_code == 200
    # For other roles the select is ignored rather than refused: it may keep a value from an earlier choice.
    assert (
        post_form(
            admin, NEW_USER, {**form, "username": "tom", "role": "trainer", "institute_id": lab.id}, token_from=NEW_USER
        ).status_code
        == 200
    )
    assert accounts.user_by_username(session, "pia").institute_id == lab.id
    assert accounts.user_by_username(session, "tom").institute_id is None
    assert "Turku lab" in admin.get(f"/admin/users/{accounts.user_by_username(session, 'pia').id}").get_data(
        as_text=True
    )


def test_a_confirmation_refused_for_its_method_marks_the_choices(
    app: Flask, officer: User, session: Session, runtime: Runtime
) -> None:
    """Found by an accessibility pass: with no method chosen, the refused form marked no control, so the focus (which
    goes to the first field marked invalid) stayed at the page's top."""
    made, client = ready_for_partner(app, session, runtime, officer, opens_in=-timedelta(days=1))
    downloaded(session, made)
    session.commit()
    path = f"/partner/batches/{made.id}"
    fields = {"confirmed_on": utcnow().date().isoformat(), "signer": "Dr. A. Researcher", "title": "Head of lab"}
    fields |= {"statement": "Every copy was deleted.", "csrf_token": csrf_token(client, path)}

    response = client.post(f"{path}/confirmation", data=fields, content_type="multipart/form-data")

    assert response.status_code == 422
    radios = re.findall(r'<input type="radio" name="method"[^>]*>', response.get_data(as_text=True))
    assert radios and all('aria-invalid="true"' in radio for radio in radios)
