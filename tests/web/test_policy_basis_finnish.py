"""The retention policies' seeded bases show in the reader's language; a basis compliance wrote shows as written.

Found by a crawler of every page in Finnish: the policy table and each policy's page showed the bases migration 0012
seeded in English ("Legitimate interest, GDPR Art. 6(1)(f)") beside Finnish text."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.privacy import retention
from tests.factories.accounts import login, make_user
from tests.factories.privacy import OFFICER, ORG_ZONE
from tests.page_text import visible_text

FINNISH = {"Accept-Language": "fi"}


def test_seeded_bases_are_finnish_on_finnish_pages_and_an_own_basis_as_written(
    client: FlaskClient, session: Session
) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))
    table = visible_text(client.get("/compliance/", headers=FINNISH).get_data(as_text=True))
    own = "Oma perusteemme: sopimusehdot 4.2."
    retention.apply_policy_change(
        session, actor=OFFICER, rule="training", keep=6, unit="months", basis=own, zone=ORG_ZONE
    )
    session.commit()
    training = visible_text(client.get("/compliance/policies/training", headers=FINNISH).get_data(as_text=True))
    english = visible_text(client.get("/compliance/", headers={"Accept-Language": "en"}).get_data(as_text=True))

    assert "Asiakaspalvelun laadunvarmistus ja kehittäminen" in table
    assert "laki velan vanhentumisesta 728/2003" in table and "Legitimate interest" not in table
    assert own in training
    assert "Quality assurance and development of customer service" in english
