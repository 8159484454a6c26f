"""Research institutes: who may receive batches, under which agreement, and on which transfer safeguard."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from babel import Locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.errors import Conflict, Invalid, NotFound
from recordings_service.models import Institute
from recordings_service.models.research import SafeguardKind
from recordings_service.research.dates import check_not_future
from recordings_service.research.text import check_line

# EU member states and the three EEA EFTA states (Iceland, Liechtenstein, Norway).
EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "IS",
        "LI",
        "NO",
    ]
)
# Countries with an adequacy decision of the European Commission (GDPR Art. 45), as listed on the
# Commission's page "Adequacy decisions" on this date. Canada: commercial organisations under PIPEDA;
# United States: organisations certified under the EU-US Data Privacy Framework only.
ADEQUACY_SOURCE_DATE = date(2025, 9, 1)
ADEQUACY = frozenset(["AD", "AR", "CA", "CH", "FO", "GB", "GG", "IL", "IM", "JE", "JP", "KR", "NZ", "US", "UY"])
# ISO 3166-1's exceptionally reserved codes, which name no country though Babel (CLDR) has some as territories
# (European Union, United Nations, Canary Islands); `_user_assigned` covers the ranges ISO leaves to users
# (CLDR's pseudo-regions and "Unknown Region" among them).
RESERVED = frozenset(["AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "FX", "IC", "SU", "TA", "UK", "UN"])
# Names and agreement references, as the registration form allows them.
MAX_NAME = 200
MAX_CONTACT = 254  # an e-mail address's longest (RFC 5321), and the column's length
# Good enough to catch typing mistakes; the address is checked for real when the first reminder is sent.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Safeguard:
    kind: SafeguardKind
    reference: str | None = None
    on: date | None = None


@cache
def country_codes() -> frozenset[str]:
    """The assigned ISO 3166-1 alpha-2 codes (Babel's territories, without its regions and reserved codes)."""
    return frozenset(
        code
        for code in Locale("en").territories
        if isinstance(code, str) and len(code) == 2 and code.isalpha()
        if code not in RESERVED and not _user_assigned(code)
    )


def _user_assigned(code: str) -> bool:
    # Kosovo's XK is user-assigned too, but it is the code the EU and most registries use for it.
    return code in {"AA", "ZZ"} or "QM" <= code <= "QZ" or (code.startswith("X") and code != "XK")


def in_eea(country: str) -> bool:
    return country in EEA


def transfer_gap(institute: Institute) -> str | None:
    """What is missing before personal data may go to this institute; None when nothing is."""
    if in_eea(institute.country):
        return None
    if institute.safeguard_kind == SafeguardKind.ADEQUACY and institute.country in ADEQUACY:
        return None
    if institute.safeguard_kind == SafeguardKind.SCC and institute.safeguard_reference and institute.safeguard_date:
        return None
    return (
        f"{institute.name} is outside the EU/EEA ({institute.country}) and has no transfer safeguard: record "
        "standard contractual clauses (reference and date), or an adequacy decision for its country"
    )


def create_institute(
    session: Session,
    *,
    actor: Actor,
    name: str,
    country: str,
    agreement_ref: str,
    agreement_date: date,
    contact: str,
    safeguard: Safeguard | None = None,
) -> Institute:
    check_line("name", name, what="an institute's name", limit=MAX_NAME)
    check_line("agreement_ref", agreement_ref, what="an agreement's reference", limit=MAX_NAME)
    check_not_future(
        "agreement_date",
        agreement_date,
        message="an agreement signed in the future is not in force",
        why="agreement_in_future",
    )
    country = country.upper()
    if country not in country_codes():
        raise Invalid(
            "country", f"{country!r} is not an ISO 3166 country code (e.g. FI, SE, GB)", code="invalid_choice"
        )
    if not _EMAIL.match(contact):
        raise Invalid("contact", "must be an e-mail address", code="invalid_email")
    check_line("contact", contact, what="an e-mail address", limit=MAX_CONTACT)
    institute = Institute(
        name=name.strip(),
        country=country,
        agreement_ref=agreement_ref.strip(),
        agreement_date=agreement_date,
        contact=contact.strip(),
    )
    if safeguard is not None:
        _apply_safeguard(institute, safeguard, within="safeguard.")
    try:
        # Added inside the savepoint: flushed before it (begin_nested flushes first), a duplicate would roll back
        # the caller's whole transaction instead of this insert alone.
        with session.begin_nested():
            session.add(institute)
    except IntegrityError:
        raise Conflict(f"an institute named {name!r} exists already", why="institute_exists") from None
    record_event(
        session,
        actor=actor,
        action="research.institute_created",
        object_type="institute",
        object_id=institute.id,
        details={"country": country, "safeguard": institute.safeguard_kind},
    )
    return institute


def set_safeguard(session: Session, *, actor: Actor, institute_id: str, safeguard: Safeguard) -> Institute:
    """Record (or replace) the transfer safeguard of an institute outside the EEA: after any approval of one of its
    batches under way (`batches.approve_batch` holds the institute's row), before any that comes later."""
    institute = get_institute(session, institute_id, lock=True)
    _apply_safeguard(institute, safeguard, within="")
    session.flush()
    record_event(
        session,
        actor=actor,
        action="research.safeguard_recorded",
        object_type="institute",
        object_id=institute.id,
        details={"kind": safeguard.kind.value},
    )
    return institute


def get_institute(session: Session, institute_id: str, *, lock: bool = False, field: str | None = None) -> Institute:
    """`field`: the request's input that named the institute, for the refusal of an unknown one to name it."""
    institute = session.get(Institute, institute_id, with_for_update=lock or None, populate_existing=lock)
    if institute is None:
        raise NotFound(f"institute {institute_id} not found", why="institute_not_found", field=field)
    return institute


def list_institutes(session: Session) -> Sequence[Institute]:
    return session.scalars(select(Institute).order_by(Institute.name)).all()


def _apply_safeguard(institute: Institute, safeguard: Safeguard, *, within: str) -> None:
    """`within` prefixes the field names: "safeguard." where the safeguard is part of the institute."""
    if in_eea(institute.country):
        raise Invalid(
            within + "kind", f"{institute.country} is in the EU/EEA: no transfer safeguard applies", why="in_eea"
        )
    if safeguard.kind == SafeguardKind.ADEQUACY and institute.country not in ADEQUACY:
        raise Invalid(
            within + "kind",
            f"the Commission has no adequacy decision for {institute.country} "
            f"(list as at {ADEQUACY_SOURCE_DATE.isoformat()}): standard contractual clauses are needed",
            code="no_adequacy",
        )
    reference = (safeguard.reference or "").strip() or None
    if reference is not None:
        check_line(within + "reference", reference, what="a reference", limit=MAX_NAME)
    if safeguard.kind == SafeguardKind.SCC and not (reference and safeguard.on):
        field = within + ("reference" if not reference else "date")
        raise Invalid(
            field, "standard contractual clauses need their reference and date", code="missing", why="scc_incomplete"
        )
    if safeguard.on is not None:
        check_not_future(
            within + "date",
            safeguard.on,
            message="a safeguard signed in the future is not in force",
            why="safeguard_in_future",
        )
    institute.safeguard_kind = safeguard.kind
    institute.safeguard_reference = reference
    institute.safeguard_date = safeguard.on
