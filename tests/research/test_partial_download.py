"""The compliance batch page says when the package was taken only in byte ranges.

Found by exploratory testing: a reader that fetched the package in ranges not starting at byte 0 (a ZIP tool
reading the directory at its end first, then each file) left the page at "Downloads 0" while the batch, rightly,
expired owing a confirmation and then went overdue: nothing on the page said why the institute owed one."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import User
from recordings_service.runtime import Runtime
from tests.factories.research import as_ready, downloaded, draft, institute

PARTS = "parts of the package were downloaded (byte ranges, not from its start)"


def test_a_package_taken_only_in_ranges_is_said_to_be_downloaded(
    officer_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    made = as_ready(draft(session, runtime, officer, institute(session).id))
    session.commit()
    url = f"/research/batches/{made.id}"
    assert PARTS not in officer_client.get(url).get_data(as_text=True)

    downloaded(session, made, start=4096, stop=8192)
    session.commit()

    page = officer_client.get(url).get_data(as_text=True)
    assert '<dd class="downloads">0' in page and PARTS in page

    downloaded(session, made, start=0, stop=made.package_size or 0)  # the whole package
    session.commit()
    page = officer_client.get(url).get_data(as_text=True)
    assert '<dd class="downloads">1' in page and PARTS not in page
