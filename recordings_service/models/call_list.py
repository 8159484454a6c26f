"""What people keep about the call list: free-text tags on calls, and each user's saved searches."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recordings_service.db import Base, created_at, ulid_pk


class CallTag(Base):
    """A free-text tag on a call; `key` is the tag in Unicode's canonical caseless form (`calls.tags.tag_key`), so
    "Churn" and "churn", and "äiti" typed with decomposed letters and composed, are one tag."""

    __tablename__ = "call_tags"
    __table_args__ = (UniqueConstraint("recording_id", "key", name="uq_call_tags_recording_key"),)

    id: Mapped[ulid_pk]
    # The unique (recording_id, key) index serves lookups by recording too.
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"))
    tag: Mapped[str] = mapped_column(String(60))
    # As wide as folding and composing can make a tag of 60 (3 characters for one: "ﬃ" folds to "ffi", as a Hebrew
    # presentation form or a Devanagari letter with nukta decomposes): a tag stored before 0049 keeps its new key.
    key: Mapped[str] = mapped_column(String(180), index=True)
    tagged_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]


class SavedSearch(Base):
    """A named call-list filter (its query string), seen by its owner only."""

    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_saved_searches_owner_name"),)

    id: Mapped[ulid_pk]
    # The unique (owner_id, name) index serves the owner's list too.
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created_at]
