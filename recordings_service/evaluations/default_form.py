"""The evaluation form a new installation starts with, and seeding it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.evaluations.forms import FormSpec, QuestionSpec, SectionSpec, create_form, publish_form
from recordings_service.models import EvaluationForm
from recordings_service.models.evaluation import AnswerType

_YNA, _SCALE = AnswerType.YES_NO_NA, AnswerType.SCALE_1_5
DEFAULT_FORM = FormSpec(
    name="Customer service call (energy retail)",
    description="Standard quality form for inbound and outbound calls about electricity contracts.",
    sections=(
        SectionSpec(
            "Opening",
            (
                QuestionSpec("Greeted the customer and gave own name and the company's name", 1.0, _YNA),
                QuestionSpec("Told the customer that the call is recorded, and why (GDPR notice)", 2.0, _YNA),
            ),
        ),
        SectionSpec(
            "Identification",
            (
                QuestionSpec(
                    "Verified the customer's identity (name and customer number or address) before discussing "
                    "the account",
                    2.0,
                    _YNA,
                ),
            ),
        ),
        SectionSpec(
            "Needs analysis",
            (
                QuestionSpec("Asked open questions to find out what the customer needs", 2.0, _SCALE),
                QuestionSpec("Summarised the need back to the customer", 1.0, _YNA),
            ),
        ),
        SectionSpec(
            "Offer and agreement",
            (
                QuestionSpec(
                    "Gave correct price and contract information (energy price, monthly fee, term, cancellation terms)",
                    3.0,
                    _YNA,
                    critical=True,
                ),
                QuestionSpec(
                    "Confirmed the agreement explicitly: the customer accepted the named product, price and start date",
                    3.0,
                    _YNA,
                    critical=True,
                ),
            ),
        ),
        SectionSpec(
            "Closing",
            (
                QuestionSpec(
                    "Explained the next steps (written confirmation, start date, 14-day right of withdrawal)",
                    1.0,
                    _YNA,
                ),
                QuestionSpec("Tone and courtesy throughout the call", 1.0, _SCALE),
                QuestionSpec("Closed the call politely and asked whether anything else was needed", 1.0, _YNA),
            ),
        ),
    ),
)


def seed_default_form(session: Session, *, actor: Actor) -> EvaluationForm | None:
    """Create and publish the default form unless a form of that name exists; None when it already did."""
    if session.scalar(select(EvaluationForm.id).where(EvaluationForm.name == DEFAULT_FORM.name).limit(1)):
        return None
    form = create_form(session, actor=actor, spec=DEFAULT_FORM)
    return publish_form(session, actor=actor, form_id=form.id)
