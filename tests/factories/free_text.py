"""Free text as people type it, for the tests of the one rule all free text is held to
(`recordings_service.written_text`): the characters refused, and the refusal as the API and the pages give it."""

from __future__ import annotations

from typing import Any

# Text in lines refuses these (an escape, U+0001, a bidi override turning what follows round).
CONTROLS = {"escape": "Good\x1b[31m", "U+0001": "Good\x01", "bidi override": "Good \u202eesuap"}
# What the pages say of them, by the reader's language: text in lines, and one line of visible text.
SAID_LINES = {"fi": "rivinvaihdot ja sarkaimet käyvät tässä", "en": "line breaks and tabs are fine here"}
SAID_LINE = {"fi": "tämä on yksi rivi näkyvää tekstiä", "en": "this is one line of visible text"}


def refused_character(response: Any, field: str) -> None:
    """The API's refusal of a character: 422 `invalid_character` naming `field`, the character named."""
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["error"], body["field"]) == ("invalid_character", field), body
    assert "U+" in body["message"]
