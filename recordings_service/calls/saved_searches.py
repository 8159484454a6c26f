"""Saved searches: a user's named call-list filters (the filter's query string), seen by that user only."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.errors import Conflict, Invalid, NotFound
from recordings_service.models import SavedSearch
from recordings_service.written_text import refuse_invisible_in_line

MAX_NAME_CHARS = 100
MAX_QUERY_CHARS = 2000
MAX_PER_USER = 100
# The call list's own parameters: paging is not part of a search.
NOT_SAVED = {"cursor", "before", "offset", "csrf_token"}


def _owner(actor: Actor) -> str:
    if actor.id is None:
        raise Invalid("owner", "only a signed-in person has saved searches", code="no_owner")
    return actor.id


def saved_searches(session: Session, *, actor: Actor) -> list[SavedSearch]:
    """The actor's own saved searches, by name."""
    return list(
        session.scalars(select(SavedSearch).where(SavedSearch.owner_id == _owner(actor)).order_by(SavedSearch.name))
    )


def save_search(session: Session, *, actor: Actor, name: str, query: str) -> SavedSearch:
    """Keep the filter `query` (a URL query string) under `name`; saving a name again replaces its query."""
    owner = _owner(actor)
    cleaned = " ".join(name.split())
    if not cleaned:
        raise Invalid("name", "enter a name", code="missing")
    if len(cleaned) > MAX_NAME_CHARS:
        raise Invalid("name", f"at most {MAX_NAME_CHARS} characters", code="too_long")
    pairs = [(key, value) for key, value in parse_qsl(query.lstrip("?")) if key not in NOT_SAVED and value]
    kept = urlencode(pairs)
    if len(kept) > MAX_QUERY_CHARS:
        raise Invalid("query", f"at most {MAX_QUERY_CHARS} characters", code="too_long")
    existing = _named(session, owner, cleaned)
    if existing is None:
        # A new name is one line of visible text; one saved before names were checked is saved again as it is.
        refuse_invisible_in_line("name", cleaned, what="a saved search's name")
        count = len(saved_searches(session, actor=actor))
        if count >= MAX_PER_USER:
            raise Conflict(
                f"at most {MAX_PER_USER} saved searches; delete one first",
                why="too_many_saved_searches",
                values={"max": MAX_PER_USER},
            )
        saved = SavedSearch(owner_id=owner, name=cleaned, query=kept)
        try:
            with session.begin_nested():
                session.add(saved)
            return saved
        except IntegrityError:
            # Saved under this name a moment ago (a double-clicked button): replaced, as a later save replaces it.
            existing = _named(session, owner, cleaned)
            assert existing is not None
    existing.query = kept
    session.flush()
    return existing


def _named(session: Session, owner: str, name: str) -> SavedSearch | None:
    return session.scalars(
        select(SavedSearch)
        .where(SavedSearch.owner_id == owner, SavedSearch.name == name)
        .execution_options(populate_existing=True)
    ).first()


def delete_saved_search(session: Session, *, actor: Actor, search_id: str) -> None:
    """Delete one of the actor's saved searches; another person's is reported as not found."""
    saved = session.get(SavedSearch, search_id)
    if saved is None or saved.owner_id != _owner(actor):
        raise NotFound(f"saved search {search_id} not found")
    session.delete(saved)
    session.flush()
