"""A ready access package's size on its request's page reads as every other package's size does (KiB, MiB), in the
reader's language, the exact bytes on hover.

Found by exploratory testing in Finnish: the page said "384783 tavua" (a bare byte count, no grouping) where research
batches say "1,1 MiB"."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.runtime import Runtime
from tests.factories.privacy import ready_access_package, runtime_on_bucket  # noqa: F401  (fixtures)


def test_the_packages_size_is_written_in_binary_units_in_finnish(
    officer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    request = ready_access_package(session, runtime)
    assert request.package_size is not None and request.package_size > 1024

    page = officer_client.get(f"/subjects/{request.id}", headers={"Accept-Language": "fi"}).get_data(as_text=True)

    assert f"{request.package_size} tavua" not in page.replace(f'title="{request.package_size} tavua"', "")
    assert " KiB" in page or " MiB" in page
