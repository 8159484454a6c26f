"""A call that may no longer go to research once its batch's package is built (the customer objects or asks for
erasure, the call is restricted, its notice or purpose is taken back, its keeping ends before the study, card data is
found in it) is not downloaded by the institute: the download is refused (409, audited)
and the jobs process builds the package again without the call, which then downloads as before. A package
downloaded already stays as it is: the institute holds the call, which stays in custody."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.models import BatchItem, Customer, Recording, ResearchBatch
from recordings_service.models.account import Role
from recordings_service.privacy.subjects import create_request
from recordings_service.research.custody import recording_custody
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.audit import events
from tests.factories.privacy import customer
from tests.factories.research import downloaded, partner, research_call

MakeBatch = Callable[..., ResearchBatch]
ReadPackage = Callable[[ResearchBatch], zipfile.ZipFile]


def _object(session: Session, officer: Actor, person: Customer, recording: Recording) -> None:
    person.objects_to_research = True


def _erase(session: Session, officer: Actor, person: Customer, recording: Recording) -> None:
    create_request(session, actor=officer, customer_ref=person.customer_ref, kind="erasure", received_at=utcnow())


def _restrict(session: Session, officer: Actor, person: Customer, recording: Recording) -> None:
    session.execute(update(Recording).where(Recording.id == recording.id).values(restricted=True))


def _recording(**values: object) -> Callable[[Session, Actor, Customer, Recording], None]:
    """A change of the call's own row, as a rectification (its notice, its purposes), a retention policy's new
    period or a redaction refresh finding card data makes it."""

    def change(session: Session, officer: Actor, person: Customer, recording: Recording) -> None:
        session.execute(update(Recording).where(Recording.id == recording.id).values(**values))

    return change


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_object, "objects_to_research"),
        (_erase, "erasure_requested"),
        (_restrict, "restricted"),
        # Found by exploratory testing: the check before a download knew only the four reasons above, and the
        # package was handed over with these calls in it.
        (_recording(notice_given=False), "notice_not_given"),
        (_recording(purposes=["verification"]), "no_quality_study_purpose"),
        (_recording(retain_until=utcnow() + timedelta(days=3)), "retained_until_before_study_end"),
        (_recording(card_data=True), "card_data"),  # the batch's audio is the original
    ],
    ids=["objection", "erasure", "restriction", "notice", "purpose", "retention", "card_data"],
)
def test_a_call_excluded_after_the_build_is_never_downloaded_and_the_package_is_built_without_it(
    client: FlaskClient,
    session: Session,
    runtime: Runtime,
    approved_batch: MakeBatch,
    built_package: ReadPackage,
    creator: Actor,
    change: Callable[[Session, Actor, Customer, Recording], None],
    reason: str,
) -> None:
    objector, other = customer(session), customer(session)
    leaving = research_call(session, runtime.store, runtime.envelope, customer_id=objector.id)
    research_call(session, runtime.store, runtime.envelope, customer_id=other.id)
    batch = approved_batch()
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    first_built, first_sha256 = batch.built_at, batch.package_sha256
    assert (batch.state, batch.items_withdrawn) == ("ready", 0)
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, batch.institute_id), scope="partner")
    change(session, creator, objector, leaving)
    session.commit()
    lab = {"Authorization": f"Bearer {plain}"}
    url = f"/api/v1/research/batches/{batch.id}/package"

    refused = client.get(url, headers=lab)
    listed = client.get("/api/v1/research/partner/batches", headers=lab).get_json()["items"]

    assert refused.status_code == 409 and refused.get_json()["error"] == "conflict"
    assert "built again" in refused.get_json()["message"]
    assert [e.details["rule"] for e in events(session, "research.download_refused", batch.id)] == ["outdated"]
    assert events(session, "batch.downloaded", batch.id) == []
    assert [item["package"]["download"] for item in listed] == [None]

    research_jobs.build_batches(runtime)

    session.refresh(batch)
    assert (batch.state, batch.items_withdrawn) == ("ready", 1)
    assert batch.package_sha256 != first_sha256 and batch.built_at == first_built
    assert [e.details for e in events(session, "research.package_outdated", batch.id)] == [{"calls_excluded": 1}]
    withdrawn = session.query(BatchItem).filter_by(batch_id=batch.id, recording_id=leaving.id).one()
    assert withdrawn.withdrawn_reason == reason
    names = built_package(batch).namelist()
    assert not any(withdrawn.call_pseudonym in name for name in names)
    served = client.get(url, headers=lab)
    assert served.status_code == 200 and len(served.data) == batch.package_size


def test_a_package_whose_calls_may_all_still_go_out_is_not_built_again(
    session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    research_call(session, runtime.store, runtime.envelope, customer_id=customer(session).id)
    batch = approved_batch()
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    sha256 = batch.package_sha256

    research_jobs.build_batches(runtime)

    session.refresh(batch)
    assert (batch.state, batch.package_sha256) == ("ready", sha256)
    assert events(session, "research.package_outdated", batch.id) == []


def test_a_package_downloaded_before_the_objection_is_not_built_again_and_the_objection_is_shown_to_pass_on(
    session: Session, runtime: Runtime, approved_batch: MakeBatch, officer_client: FlaskClient, client: FlaskClient
) -> None:
    """The institute holds the call: it stays in custody, and compliance is shown the objection to pass on (an
    erasure request flags the batch; an objection was nowhere to be seen)."""
    objector = customer(session)
    leaving = research_call(session, runtime.store, runtime.envelope, customer_id=objector.id)
    batch = approved_batch()
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    downloaded(session, batch)
    _, plain = create_token(session, actor=SYSTEM, user=make_user(session, role=Role.COMPLIANCE), scope="research")
    session.commit()
    api = f"/api/v1/research/batches/{batch.id}"
    officer = {"Authorization": f"Bearer {plain}"}
    assert client.get(api, headers=officer).get_json()["objections"] == []
    objector.objects_to_research = True
    session.commit()

    research_jobs.build_batches(runtime)

    session.refresh(batch)
    assert (batch.state, batch.items_withdrawn) == ("ready", 0)
    [record] = recording_custody(session, leaving.id)
    assert record.outstanding and record.withdrawn_reason is None
    [item] = session.query(BatchItem).filter_by(batch_id=batch.id).all()
    assert item.customer_pseudonym is not None
    assert client.get(api, headers=officer).get_json()["objections"] == [item.customer_pseudonym]
    page = officer_client.get(f"/research/batches/{batch.id}").get_data(as_text=True)
    assert "Objections to pass on to the institute" in page and item.customer_pseudonym in page
