"""One form changed by two admins at once: found by an exploratory pass. Two edits of a published version each
found it the latest and both wrote the family's next version: the later failed on the family's unique version (a
500 page) where one after the other it is told of the new version (409). The same draft published twice at once
was published twice (two `form.published`). The form's row is now locked while it is changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.db import make_sessionmaker
from recordings_service.errors import Conflict
from recordings_service.evaluations.forms import create_form, edit_form, publish_form
from recordings_service.models import AuditEvent, EvaluationForm
from recordings_service.models.account import Role
from tests.factories.evaluations import SMALL_FORM, make_evaluator, published_form
from tests.factories.own_database import second_waits_for_first


def test_two_edits_of_a_published_version_at_once_make_one_next_version(own_engine: Engine) -> None:
    sessions = make_sessionmaker(own_engine)
    with sessions() as setup:
        first, second = make_evaluator(setup, Role.ADMIN), make_evaluator(setup, Role.ADMIN)
        form = published_form(setup, first)
        setup.commit()

    def edit(actor: Actor) -> Callable[[Session], object]:
        spec = replace(SMALL_FORM, name=f"edited by {actor.name}")
        return lambda session: edit_form(session, actor=actor, form_id=form.id, spec=spec)

    outcome = second_waits_for_first(sessions, edit(first), edit(second))

    assert isinstance(outcome, Conflict) and outcome.why == "later_form_version", outcome
    with sessions() as session:
        family = session.scalars(
            select(EvaluationForm).where(EvaluationForm.family_id == form.family_id).order_by(EvaluationForm.version)
        ).all()
        assert [(each.version, each.name) for each in family] == [(1, SMALL_FORM.name), (2, f"edited by {first.name}")]


def test_one_draft_published_twice_at_once_is_published_once(own_engine: Engine) -> None:
    sessions = make_sessionmaker(own_engine)
    with sessions() as setup:
        first, second = make_evaluator(setup, Role.ADMIN), make_evaluator(setup, Role.ADMIN)
        draft = create_form(setup, actor=first, spec=SMALL_FORM)
        setup.commit()

    def publish(actor: Actor) -> Callable[[Session], object]:
        return lambda session: publish_form(session, actor=actor, form_id=draft.id)

    outcome = second_waits_for_first(sessions, publish(first), publish(second))

    assert isinstance(outcome, Conflict) and "already published" in outcome.message, outcome
    with sessions() as session:
        published = select(func.count()).where(AuditEvent.action == "form.published", AuditEvent.object_id == draft.id)
        assert session.scalar(published) == 1
