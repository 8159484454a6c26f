"""`callvault redaction refresh` reaches research packages built before it: a package holding a call whose redacted
transcript came out different is built again with the new text before the institute can download it; one its
institute downloaded already is named on its trail for compliance to follow up; one being built at that moment
(its calls read with the old text) is built again.

Found by exploratory testing: after a new CALLVAULT_CUSTOMER_NUMBER_PATTERN and a refresh, trainers read
"[CUSTOMER_NUMBER]" while the research package built the day before was still served with the number in its
"redacted" transcript (and audible in its redacted audio) until the study's end."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from jobs.redaction import RefreshReport, refresh_redactions
from recordings_service.models import ResearchBatch
from recordings_service.models.research import BatchState
from recordings_service.research.package import CallEntry
from recordings_service.runtime import Runtime
from tests.factories.audit import events
from tests.factories.privacy import OFFICER
from tests.factories.research import downloaded, research_call
from tests.research.conftest import BuildBatches, MakeBatch

# Matches a word each research call says: redacting again with it changes every call's twin.
NEW_RULE = r"\bnorthern\b"


def _customer_text(package: zipfile.ZipFile) -> str:
    [name] = [name for name in package.namelist() if name.endswith("transcript.json")]
    return " ".join(segment["text"] for segment in json.loads(package.read(name))["segments"])


def test_a_package_not_yet_downloaded_is_built_again_and_a_downloaded_one_is_named(
    session: Session,
    runtime: Runtime,
    built_batch: BuildBatches,
    built_package: Callable[[ResearchBatch], zipfile.ZipFile],
) -> None:
    waiting, taken = built_batch(2)
    assert "northern" in _customer_text(built_package(waiting))
    downloaded(session, taken)
    session.commit()

    report = refresh_redactions(runtime, actor=OFFICER, customer_number_pattern=NEW_RULE)

    assert report.changed >= 1 and (report.research_rebuilt, report.research_held) == (1, 1)
    session.expire_all()
    assert session.get(ResearchBatch, waiting.id).state == BatchState.APPROVED  # type: ignore[union-attr]
    [outdated] = events(session, "research.package_outdated", waiting.id)
    assert set(outdated.details) == {"call_redacted_again"}
    research_jobs.build_batches(runtime)
    session.expire_all()
    rebuilt = session.get(ResearchBatch, waiting.id)
    assert rebuilt is not None and rebuilt.state == BatchState.READY
    assert "northern" not in _customer_text(built_package(rebuilt))

    # The institute holds the package it downloaded: it is left as it is, and its trail says which call changed.
    session.refresh(taken)
    assert taken.state == BatchState.READY
    assert [event.details for event in events(session, "research.package_redaction_outdated", taken.id)] == [
        {"recording": next(iter(outdated.details.values()))}
    ]
    assert events(session, "research.package_outdated", taken.id) == []


def test_a_package_being_built_during_the_refresh_is_built_again_with_the_new_text(
    session: Session,
    runtime: Runtime,
    approved_batch: MakeBatch,
    built_package: Callable[[ResearchBatch], zipfile.ZipFile],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    session.commit()
    batch = approved_batch(sample_size=1)
    builders_calls = research_jobs._calls
    refreshed: list[RefreshReport] = []

    def calls_read_before_the_refresh(*args: Any, **kwargs: Any) -> Iterator[CallEntry]:
        """The builder has read its calls (their text as it was) when the refresh commits; then it writes them."""
        calls = list(builders_calls(*args, **kwargs))
        if not refreshed:
            refreshed.append(refresh_redactions(runtime, actor=OFFICER, customer_number_pattern=NEW_RULE))
        yield from calls

    monkeypatch.setattr(research_jobs, "_calls", calls_read_before_the_refresh)
    research_jobs.build_batches(runtime)
    monkeypatch.undo()
    research_jobs.build_batches(runtime)

    [report] = refreshed
    assert report.changed >= 1 and report.research_rebuilt == 1
    session.expire_all()
    built = session.get(ResearchBatch, batch.id)
    assert built is not None and built.state == BatchState.READY
    assert "northern" not in _customer_text(built_package(built))
    [outdated] = events(session, "research.package_outdated", batch.id)
    assert set(outdated.details) == {"call_redacted_again"}
