"""The rules of which calls trainers may use that queries outside the training library need too (a trainer's word
search): the settings that change them, and the rules as one clause on Recording. The library's own per-call
reasons are `training.eligibility`'s."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Text, and_, cast, exists, or_
from sqlalchemy.orm import aliased

from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.models import Customer, Recording
from recordings_service.models.privacy import customer_asked_for_erasure
from recordings_service.models.recording import Purpose


@dataclass(frozen=True)
class TrainingRules:
    """The two settings that change what trainers get; pages and API answers state them."""

    honours_research_objection: bool = False
    show_agents: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> TrainingRules:
        return cls(
            honours_research_objection=settings.training_honours_research_objection,
            show_agents=settings.training_show_agents,
        )


def usable_for_training(rules: TrainingRules) -> ColumnElement[bool]:
    """The calls trainers may use, as a clause on Recording: the rules of `training.eligibility.reason_for` but the
    transcription's, for the queries that must not let an excluded call count (a trainer's word search, a sample's
    words). The purposes are JSON: their text holds each purpose quoted, so the match is exact."""
    customer = aliased(Customer)  # its own: a query using the clause may join Customer already (sampling does)
    objection: ColumnElement[bool] = customer.objects_to_marketing.is_(True)
    if rules.honours_research_objection:
        objection = or_(objection, customer.objects_to_research.is_(True))
    return and_(
        cast(Recording.purposes, Text).like(f'%"{Purpose.TRAINING.value}"%'),
        Recording.notice_given.is_(True),
        ~exists().where(customer.id == Recording.customer_id, objection),
        ~customer_asked_for_erasure(),
        or_(Recording.retain_until.is_(None), Recording.retain_until >= utcnow()),
    )
