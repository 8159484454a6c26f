"""The new-institute form marks the safeguard input that was refused: found by review, the service names the
fields `safeguard.kind`, `safeguard.reference` and `safeguard.date` while the form's inputs are `safeguard_kind`
and so on, so the message showed but the refused input was not marked `aria-invalid` (the kind was, for any of
them). Clauses typed without their kind are refused too, not dropped."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import Institute
from tests.factories.accounts import post_form

INSTITUTES = "/research/institutes/"
FORM = {"name": "Pune lab", "country": "IN", "agreement_ref": "DPA-7", "agreement_date": "2026-10-01"}
FORM |= {"contact": "lab@example.org"}
SAFEGUARD = ("safeguard_kind", "safeguard_reference", "safeguard_date")


def _marked(page: str) -> set[str]:
    """The names of the new-institute form's inputs marked aria-invalid."""
    form = page[page.index('action="/research/institutes/"') :]
    tags = re.findall(r"<(?:input|select)\b[^>]*>", form[: form.index("</form>")])
    return {re.search(r'name="([^"]+)"', tag).group(1) for tag in tags if 'aria-invalid="true"' in tag}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("safeguard", "refused"),
    [
        ({"safeguard_kind": "scc", "safeguard_date": "2026-10-02"}, "safeguard_reference"),
        ({"safeguard_kind": "scc", "safeguard_reference": "SCC-2021/914-M2"}, "safeguard_date"),
        ({"safeguard_kind": "scc", "safeguard_reference": "SCC", "safeguard_date": "2999-01-01"}, "safeguard_date"),
        ({"safeguard_kind": "adequacy"}, "safeguard_kind"),
        (
            {"safeguard_kind": "scc", "safeguard_reference": "S" * 201, "safeguard_date": "2026-10-02"},
            "safeguard_reference",
        ),
    ],
    ids=["reference_missing", "date_missing", "date_in_future", "no_adequacy", "reference_too_long"],
)
def test_the_refused_safeguard_input_is_the_one_marked(
    officer_client: FlaskClient, safeguard: dict[str, str], refused: str
) -> None:
    answer = post_form(officer_client, INSTITUTES, {**FORM, **safeguard}, token_from=INSTITUTES)

    assert answer.status_code == 422
    assert _marked(answer.get_data(as_text=True)) == {refused}


def test_a_refused_agreement_reference_is_marked(officer_client: FlaskClient) -> None:
    answer = post_form(officer_client, INSTITUTES, {**FORM, "agreement_ref": "A" * 201}, token_from=INSTITUTES)

    assert answer.status_code == 422
    assert _marked(answer.get_data(as_text=True)) == {"agreement_ref"}


@pytest.mark.parametrize(
    "typed",
    [{"safeguard_reference": "SCC-2021/914-M2", "safeguard_date": "2026-10-02"}, {"safeguard_date": "2026-10-02"}],
    ids=["reference_and_date", "date"],
)
def test_clauses_typed_without_their_kind_are_refused_not_dropped(
    officer_client: FlaskClient, session: Session, typed: dict[str, str]
) -> None:
    """Found by exploratory testing: a reference and date typed with no kind chosen registered the institute
    without any safeguard, silently, so the clauses typed for it were lost and no batch could be approved."""
    answer = post_form(officer_client, INSTITUTES, {**FORM, **typed}, token_from=INSTITUTES)

    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "choose the kind of safeguard" in page
    assert _marked(page) == {"safeguard_kind"} and all(f'value="{value}"' in page for value in typed.values())
    assert session.scalar(select(Institute).where(Institute.name == FORM["name"])) is None
