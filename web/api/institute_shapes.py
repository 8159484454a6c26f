"""The research API's shapes of institutes: what compliance registers (with the transfer safeguard needed outside the
EU/EEA) and reads back."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from recordings_service.iso_input import Day
from recordings_service.models import Institute
from recordings_service.recordings import IsoDatetime
from recordings_service.research import institutes
from web.api.research_shapes import Name
from web.api.validation import trimmed


class SafeguardIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: Literal["scc", "adequacy"]
    reference: Annotated[str, trimmed(200)] | None = None
    on: Day | None = Field(default=None, alias="date", description="of the clauses or the decision")


class InstituteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2, e.g. FI")
    agreement_ref: Name = Field(description="the processing agreement (GDPR Art. 28)")
    agreement_date: Day
    contact: str = Field(min_length=3, max_length=254, description="e-mail for reminders")
    safeguard: SafeguardIn | None = Field(default=None, description="needed outside the EU/EEA")


class InstituteOut(BaseModel):
    id: str
    name: str
    country: str
    in_eea: bool
    agreement_ref: str
    agreement_date: date
    contact: str
    safeguard: SafeguardIn | None
    transfer_gap: str | None = Field(description="what is missing before batches may go to it; null when nothing")
    created_at: IsoDatetime


class InstitutesOut(BaseModel):
    items: list[InstituteOut]


def institute_out(institute: Institute) -> InstituteOut:
    safeguard = None
    if institute.safeguard_kind is not None:
        safeguard = SafeguardIn(
            kind=institute.safeguard_kind,  # type: ignore[arg-type]
            reference=institute.safeguard_reference,
            on=institute.safeguard_date,
        )
    return InstituteOut(
        id=institute.id,
        name=institute.name,
        country=institute.country,
        in_eea=institutes.in_eea(institute.country),
        agreement_ref=institute.agreement_ref,
        agreement_date=institute.agreement_date,
        contact=institute.contact,
        safeguard=safeguard,
        transfer_gap=institutes.transfer_gap(institute),
        created_at=institute.created_at,
    )
