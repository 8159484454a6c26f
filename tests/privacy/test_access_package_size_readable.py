"""A ready access package's size on its request's page reads as every other package's size does (KiB, MiB), in the
reader's language, the exact bytes on hover.

Found by exploratory testing in Finnish: the page said "384783 tavua" (a bare byte count, no grouping) where research
batches say "1,1 MiB"."""

from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from jobs import subject_access
from recordings_service.privacy import package_queue, subjects
from recordings_service.runtime import Runtime
from tests.factories.privacy import OFFICER, aged_call, customer, runtime_on_bucket  # noqa: F401  (fixtures)


def test_the_packages_size_is_written_in_binary_units_in_finnish(
    officer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    person = customer(session)
    aged_call(session, runtime.store, runtime.envelope, started_at=now, purposes=[], customer_id=person.id)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="access", received_at=now
    )
    package_queue.request_package(session, actor=OFFICER, request_id=request.id)
    session.commit()
    subject_access.build_packages(runtime)
    session.refresh(request)
    assert request.package_size is not None and request.package_size > 1024

    page = officer_client.get(f"/subjects/{request.id}", headers={"Accept-Language": "fi"}).get_data(as_text=True)

    assert f"{request.package_size} tavua" not in page.replace(f'title="{request.package_size} tavua"', "")
    assert " KiB" in page or " MiB" in page
