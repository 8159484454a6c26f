"""The compliance page `/research/` and the partner's `/partner/` go through every batch a page at a time: found by
review, both showed at most 200 batches with no link further, so the oldest (those whose custody is most likely
still owed) could not be reached. Now a next-page link pages on to the end, a first-page link leads back, and a
page link edited or out of date is refused 422, the refusal leading to the pager, as the call list and
/assignments answer one. The overdue batches head the first page (with their count) and page on their own; found
by review, they were repeated above every later page of the others, which now shows their count instead."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import User
from recordings_service.models.research import BatchState
from recordings_service.runtime import Runtime
from tests.factories.research import as_ready, draft, institute, partner
from tests.factories.staff import client_of
from web.ui import partner as partner_ui
from web.ui import research as research_ui

FIRST_PAGE = "First page of the list"
STUDY = re.compile(r">(Study \d)</a>")
OVERDUE_ELSEWHERE = (
    '<strong class="critical">3 overdue batches: the institute has not confirmed return or destruction</strong> · '
    '<a href="/research/#overdue-heading">Show the overdue batches</a>'
)


def _walk(client: FlaskClient, path: str, key: str) -> list[str]:
    """Each page's text, following the next-page links of list `key`'s pager from `path` to the end."""
    pages: list[str] = []
    url: str | None = path
    while url is not None:
        assert len(pages) < 10, "the next-page links never end"
        answer = client.get(url)
        assert answer.status_code == 200
        page = answer.get_data(as_text=True)
        pages.append(page)
        # From the second page on, a link back to the first page of that list (the other list where it was).
        assert (FIRST_PAGE in page) is (len(pages) > 1)
        pager = re.search(rf'<nav aria-label="Page" aria-describedby="{key}-heading">(.*?)</nav>', page, re.S)
        following = re.search(r'<a href="([^"]+)" rel="next">', pager.group(1)) if pager else None
        url = following.group(1).replace("&amp;", "&") if following else None
    return pages


def _split(page: str) -> tuple[list[str], list[str]]:
    """The overdue batches' studies and the others' on a compliance page."""
    overdue, rest = page.split('id="batches-heading"')
    return STUDY.findall(overdue), STUDY.findall(rest)


def _refused(client: FlaskClient, path: str, key: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert f'id="{key}-page-error" role="alert"><a href="#{key}-pager">' in page
    assert f'<nav id="{key}-pager"' in page and FIRST_PAGE in page


def test_compliance_pages_through_every_batch_overdue_first(
    officer_client: FlaskClient, officer: User, session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(research_ui, "PAGE_SIZE", 2)
    lab = institute(session).id
    made = [draft(session, runtime, officer, lab, study=f"Study {n}") for n in range(8)]
    for batch in made[:3]:
        batch.state = BatchState.OVERDUE
    session.commit()

    seen = {
        name
        for key in ("batches", "overdue")
        for page in _walk(officer_client, "/research/", key)
        for name in STUDY.findall(page)
    }
    assert seen == {batch.study for batch in made}  # every batch is reachable

    others = _walk(officer_client, "/research/", "batches")
    # The overdue head the first page only, their count above each later page with the way back to them.
    assert [_split(page)[0] for page in others] == [["Study 2", "Study 1"], [], []]
    assert [_split(page)[1] for page in others] == [["Study 7", "Study 6"], ["Study 5", "Study 4"], ["Study 3"]]
    assert ['id="overdue-heading">3 overdue batches:' in page for page in others] == [True, False, False]
    assert [OVERDUE_ELSEWHERE in page for page in others] == [False, True, True]

    late = [_split(page) for page in _walk(officer_client, "/research/", "overdue")]
    assert [overdue for overdue, _ in late] == [["Study 2", "Study 1"], ["Study 0"]]
    assert [rest for _, rest in late] == [["Study 7", "Study 6"]] * 2

    _refused(officer_client, "/research/?cursor=not-a-cursor", "batches")
    _refused(officer_client, "/research/?overdue_cursor=not-a-cursor", "overdue")


def test_a_partner_pages_through_every_batch_of_its_institute(
    app: Flask, officer: User, session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partner_ui, "PAGE_SIZE", 2, raising=False)
    ours, theirs = institute(session).id, institute(session).id
    for n in range(5):
        as_ready(draft(session, runtime, officer, ours, study=f"Study {n}"))
    as_ready(draft(session, runtime, officer, theirs, study="Study 9"))
    draft(session, runtime, officer, ours, study="Study 8")  # a draft: never shown
    session.commit()
    client = client_of(app, partner(session, ours))

    pages = [STUDY.findall(page) for page in _walk(client, "/partner/", "batches")]

    assert pages == [["Study 4", "Study 3"], ["Study 2", "Study 1"], ["Study 0"]]
    _refused(client, "/partner/?cursor=not-a-cursor", "batches")
