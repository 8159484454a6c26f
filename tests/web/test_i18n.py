"""The UI in Finnish: the browser's language or the person's choice, a safe language switch, a complete catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import csrf_token, fresh_code, login, login_via_form, make_enrolled_user, make_user
from web import i18n

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
POT = TRANSLATIONS / "messages.pot"
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")
RUN = "run `make translations`, translate the new or fuzzy entries of web/translations/fi/LC_MESSAGES/messages.po"


def choose(client: FlaskClient, lang: str, next_path: str | None = "/login", **headers: str) -> TestResponse:
    data = {"lang": lang, "csrf_token": csrf_token(client)}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/language", data=data, headers=headers)


def catalogue(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_mo(handle) if path.suffix == ".mo" else read_po(handle)


def translated(catalog: Catalog) -> dict[str, str]:
    """msgid → translation, leaving out the header, empty and fuzzy entries (pybabel compile skips fuzzy ones).

    A plural entry (ngettext) is keyed by its singular msgid, as the code names it, and translated only when
    every form is; its forms are joined by NUL. The .po gives the ids as a tuple, the .mo as a list."""
    found = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        plural = isinstance(message.id, (tuple, list))
        msgid = str(message.id[0]) if plural else str(message.id)
        forms = [str(form) for form in message.string] if plural else [str(message.string)]
        if all(forms):
            found[key(message.context, msgid)] = "\x00".join(forms)
    return found


def key(context: str | None, msgid: str) -> str:
    """One key per catalogue entry: the same msgid under a pgettext context is an entry of its own."""
    return f"{context}\x04{msgid}" if context else msgid


def source_msgids() -> set[str]:
    """The strings the code and templates ask to translate now, extracted as `make translations` does."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    keywords = {**DEFAULT_KEYWORDS, "_l": None}  # as `pybabel extract -k _l`
    return {
        key(context, message if isinstance(message, str) else message[0])
        for _, _, message, _, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords, comment_tags=()
        )
    }


# ---------------------------------------------------------------- choosing the language


def test_the_browser_language_picks_finnish(client: FlaskClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "fi-FI,fi;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert "Kirjaudu sisään" in page
    assert '<html lang="fi">' in page


def test_english_is_the_default(client: FlaskClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "sv, de"}).get_data(as_text=True)
    assert "Kirjaudu sisään" not in page
    assert '<html lang="en">' in page


def test_the_switch_stores_the_choice_and_overrides_the_browser(client: FlaskClient) -> None:
    response = choose(client, "fi", "/login?next=%2Faccount")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Faccount"
    with client.session_transaction() as session:
        assert session[i18n.SESSION_KEY] == "fi"
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Kirjaudu sisään" in page
    assert '<option value="fi" lang="fi" selected>Suomi</option>' in page

    choose(client, "en")
    page = client.get("/login", headers={"Accept-Language": "fi"}).get_data(as_text=True)
    assert "Kirjaudu sisään" not in page


def test_the_header_form_returns_to_the_page_it_was_on(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session))
    page = client.get("/account?q=secret").get_data(as_text=True)
    assert 'action="/language"' in page
    assert 'name="next" value="/account"' in page
    assert "secret" not in page  # the query (search words) is not echoed
    assert '<label for="language-select">' in page


def test_signing_in_keeps_the_chosen_language(client: FlaskClient, session: Session, envelope: Envelope) -> None:
    user, secret = make_enrolled_user(session, envelope)
    choose(client, "fi")
    with client.session_transaction() as cookie:
        cookie["planted"] = "by an attacker"
    response = login_via_form(client, user.username)
    assert response.headers["Location"] == "/login/mfa"
    assert "Vahvistuskoodi" in client.get("/login/mfa", headers={"Accept-Language": "en"}).get_data(as_text=True)
    data = {"code": fresh_code(secret), "csrf_token": csrf_token(client)}
    response = client.post("/login/mfa", data=data)
    assert response.status_code == 302
    with client.session_transaction() as cookie:
        assert cookie[i18n.SESSION_KEY] == "fi"
        assert "planted" not in cookie  # everything else from before the login is gone (fixation)
    page = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="fi">' in page
    assert "<h1>Oma tilisi</h1>" in page


def test_the_switch_needs_the_csrf_token(client: FlaskClient) -> None:
    response = client.post("/language", data={"lang": "fi", "next": "/login"})
    assert response.status_code == 400
    with client.session_transaction() as session:
        assert i18n.SESSION_KEY not in session


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_an_unknown_language_is_refused_naming_the_field(client: FlaskClient, accept: str) -> None:
    response = choose(client, "sv", Accept=accept)
    assert response.status_code == 422
    if accept == "application/json":
        assert response.get_json()["field"] == "lang"
        assert response.get_json()["error"] == "invalid"
    else:
        assert "Unknown language" in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert i18n.SESSION_KEY not in session


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "evil.example",
        "javascript:alert(1)",
        "",
        None,
    ],
)
def test_only_a_path_on_this_site_is_followed(client: FlaskClient, next_path: str | None) -> None:
    response = choose(client, "fi", next_path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert session[i18n.SESSION_KEY] == "fi"  # the choice itself still counts


# ---------------------------------------------------------------- the catalogue


def test_every_ui_string_has_a_finnish_translation() -> None:
    """Fails when a string in the code or templates has no Finnish translation.

    To fix: run `make translations` (re-extracts messages.pot, merges it into the .po, compiles the .mo), translate
    the new or fuzzy entries in web/translations/fi/LC_MESSAGES/messages.po, and run `make translations` again.
    Only missing translations fail this test: moved strings and stale line references do not.
    """
    po = translated(catalogue(TRANSLATIONS / "fi" / "LC_MESSAGES" / "messages.po"))
    missing = sorted(source_msgids() - po.keys())
    assert not missing, f"untranslated UI strings ({RUN}): {missing}"


def test_the_compiled_catalogue_covers_the_template_and_matches_the_po() -> None:
    """The .mo is what runs: every msgid of messages.pot is in it, translated as the .po says (`make translations`)."""
    pot_ids = {
        key(message.context, str(message.id[0] if isinstance(message.id, (tuple, list)) else message.id))
        for message in catalogue(POT)
        if message.id
    }
    po = translated(catalogue(TRANSLATIONS / "fi" / "LC_MESSAGES" / "messages.po"))
    mo = translated(catalogue(TRANSLATIONS / "fi" / "LC_MESSAGES" / "messages.mo"))
    assert pot_ids, "messages.pot is empty"
    assert sorted(pot_ids - mo.keys()) == [], f"msgids missing from the compiled catalogue ({RUN})"
    stale = sorted(msgid for msgid in po if mo.get(msgid) != po[msgid])
    assert stale == [], f"messages.mo is older than messages.po ({RUN})"


def test_translations_keep_every_placeholder() -> None:
    po = translated(catalogue(TRANSLATIONS / "fi" / "LC_MESSAGES" / "messages.po"))
    wrong = [
        msgid
        for msgid, text in po.items()
        if any(sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(form)) for form in text.split("\x00"))
    ]
    assert wrong == []


def test_key_terms_are_translated_consistently() -> None:
    po = translated(catalogue(TRANSLATIONS / "fi" / "LC_MESSAGES" / "messages.po"))
    assert (po["Sign in"], po["Calls"], po["Queue"], po["Evaluation"]) == (
        "Kirjaudu sisään",
        "Puhelut",
        "Jono",
        "Arviointi",
    )
    assert po["Transcript"] == "Litteraatti"
    assert po["Audit trail"] == "Tarkastusloki"
    assert not [text for text in po.values() if re.search(r"tekstitys|lokitiedot", text, re.IGNORECASE)]
    # Found by exploratory testing: the compliance role is "tietosuojavastaava", but the same people were also
    # "vaatimustenmukaisuuskäyttäjä" and "vaatimustenmukaisuus" (conformity), one sentence ungrammatical with it.
    assert po["compliance officer"] == "tietosuojavastaava"
    assert not [text for text in po.values() if re.search(r"vaatimustenmukaisuu", text, re.IGNORECASE)]
    # The partner portal addresses the institute in the plural, as "te" (it mixed in "olet", "instituutillesi").
    assert not [text for text in po.values() if re.search(r"\bOlet\b|[Ii]nstituuti", text)]
