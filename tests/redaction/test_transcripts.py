"""The redacted twin of a transcript: values replaced in text and words, where they were said kept, card data
taken out of the transcript itself."""

from __future__ import annotations

import pytest

from recordings_service.redaction.transcripts import Redaction, redact_transcript, redactions_of
from tests.factories.transcription import segment

CARD = "4539 1488 0343 6467"  # passes Luhn


def test_a_card_number_is_replaced_in_text_and_words_and_its_time_is_kept() -> None:
    asked = segment("agent", 0.0, ["Could", "I", "have", "your", "card", "number", "please?"])
    said = segment("customer", 4.0, ["My", "card", "number", "is", *CARD.split(), "thanks."])

    redacted = redact_transcript([asked, said], "en")

    twin = redacted.twin[1]
    assert twin["text"] == " My card number is [CARD] thanks."
    assert [word["text"] for word in twin["words"]] == [" My", " card", " number", " is", " [CARD]", " thanks."]
    card_word = twin["words"][4]
    assert (card_word["start"], card_word["end"]) == (6.0, 8.0)  # from "4539" to "6467"
    assert twin["redactions"] == [{"kind": "card", "start": 6.0, "end": 8.0, "timed": True}]
    assert twin["start"] == said["start"] and twin["speaker"] == "customer"
    # Card data is not kept in the transcript itself either (PCI DSS 3.3.1).
    assert redacted.without_card_data[1]["text"] == twin["text"]
    assert "4539" not in str(redacted.without_card_data)
    assert redacted.twin[0]["redactions"] == [] and redacted.twin[0]["text"] == asked["text"]


def test_other_personal_data_leaves_the_transcript_and_stays_out_of_the_twin() -> None:
    said = segment("customer", 1.0, ["Hello,", "my", "name", "is", "Matti", "Virtanen"])

    redacted = redact_transcript([said], "en")

    assert "Virtanen" not in redacted.twin[0]["text"] and "[PERSON]" in redacted.twin[0]["text"]
    assert redacted.without_card_data[0]["text"] == said["text"]  # evidence keeps what is not card data
    assert redacted.without_card_data[0]["redactions"] == []


def test_the_agents_question_on_the_other_channel_makes_a_bare_number_a_security_code() -> None:
    asked = segment("agent", 0.0, ["And", "the", "security", "code", "on", "the", "back?"])
    said = segment("customer", 3.0, ["It", "is", "731."])

    twin = redact_transcript([asked, said], "en").twin

    assert twin[1]["text"] == " It is [CARD_SECURITY_CODE]."
    assert redactions_of(twin) == [Redaction(segment=1, kind="card_security_code", start_s=4.0, end_s=4.5, timed=True)]


def test_without_word_timings_the_whole_segment_is_where_it_was_said() -> None:
    said = {"speaker": "customer", "start": 2.0, "end": 9.5, "text": f"My card number is {CARD}", "words": []}

    twin = redact_transcript([said], "en").twin[0]

    assert twin["text"] == "My card number is [CARD]"
    assert twin["redactions"] == [{"kind": "card", "start": 2.0, "end": 9.5, "timed": False}]


def test_words_that_do_not_spell_the_text_fall_back_to_the_whole_segment() -> None:
    said = segment("customer", 0.0, ["My", "card", "number", "is", *CARD.split()])
    said["words"][4]["text"] = " 4593"  # the engine's words disagree with its text

    twin = redact_transcript([said], "en").twin[0]

    assert twin["words"] == []  # no word can be trusted to carry the timing of what was removed
    assert twin["redactions"][0]["timed"] is False
    assert "4539" not in str(twin)


def test_a_configured_customer_number_pattern_is_used() -> None:
    said = segment("customer", 0.0, ["It", "is", "EN-884422."])

    default = redact_transcript([said], "en").twin[0]
    configured = redact_transcript([said], "en", customer_number_pattern=r"EN-(?P<number>\d{6})").twin[0]

    assert default["redactions"] == []
    assert configured["text"] == " It is EN-[CUSTOMER_NUMBER]."


def test_a_name_the_call_introduced_is_redacted_wherever_it_is_said_again() -> None:
    """Found by exploratory testing: "my name is Liisa Mäkinen" was redacted, the agent's "thank you Liisa" and
    "Mrs Mäkinen, ..." later in the call were not (no cue before them)."""
    said = [
        segment("customer", 0.0, ["Liisa", "here,", "hello."]),
        segment("agent", 2.0, ["Hello,", "may", "I", "have", "your", "full", "name?"]),
        segment("customer", 6.0, ["My", "name", "is", "Liisa", "Mäkinen."]),
        segment("agent", 9.0, ["thanks,", "let", "me", "check", "the", "account."]),
        segment("customer", 12.0, ["okay", "sure."]),
        segment("agent", 14.0, ["thank", "you", "Liisa.", "Mrs", "Mäkinen,", "your", "bill", "is", "ready."]),
        segment("agent", 19.0, ["Aino", "from", "billing", "says", "hi."]),
    ]

    twin = redact_transcript(said, "en").twin

    text = " ".join(segment["text"] for segment in twin)
    assert "Liisa" not in text and "Mäkinen" not in text
    assert twin[5]["text"] == " thank you [PERSON]. Mrs [PERSON], your bill is ready."
    assert twin[0]["text"] == " [PERSON] here, hello."
    assert [(r.start_s, r.end_s) for r in redactions_of(twin) if r.segment == 5] == [(15.0, 15.5), (16.0, 16.5)]
    assert twin[6]["text"] == " Aino from billing says hi."  # a name the call never introduced stays


def test_the_first_name_an_agent_greets_with_is_redacted_wherever_it_is_said() -> None:
    """Found by review: "this is Anna" on the agent's channel stayed in the twin (a weak cue needs a first and a
    last name), so trainers and research partners, who see the agent as a pseudonym, read the agent's name."""
    said = [
        segment("agent", 0.0, ["Northern", "Energy", "customer", "service,", "this", "is", "Anna."]),
        segment("customer", 3.0, ["Hi", "Anna,", "this", "is", "about", "my", "bill."]),
        segment("agent", 6.0, ["Sure,", "I'm", "Finnish", "too,", "let", "me", "check."]),
    ]

    twin = redact_transcript(said, "en").twin

    assert [part["text"] for part in twin] == [
        " Northern Energy customer service, this is [PERSON].",
        " Hi [PERSON], this is about my bill.",
        " Sure, I'm Finnish too, let me check.",
    ]
    assert [(r.segment, r.start_s) for r in redactions_of(twin)] == [(0, 3.0), (1, 3.5)]


def test_agents_greet_by_first_name_in_finnish_and_swedish_and_a_caller_needs_a_full_name() -> None:
    greetings = {
        "fi": [["Pohjolan", "Energia,", "Anna", "tässä,", "miten", "voin", "auttaa?"], ["Hei,", "olen", "Ville."]],
        "sv": [["Hej,", "jag", "är", "Anna,", "vad", "gäller", "det?"], ["Anna", "här,", "hej."]],
    }
    for language, lines in greetings.items():
        twin = redact_transcript([segment("agent", 5.0 * n, words) for n, words in enumerate(lines)], language).twin
        assert all("[PERSON]" in part["text"] for part in twin), (language, twin)
        assert not any(name in part["text"] for part in twin for name in ("Anna", "Ville")), (language, twin)
    # The caller's "this is Mikko" stays as before: on the customer's channel a weak cue takes a full name only.
    [caller] = redact_transcript([segment("customer", 0.0, ["Hi,", "this", "is", "Mikko."])], "en").twin
    assert caller["text"] == " Hi, this is Mikko."


@pytest.mark.parametrize(
    ("language", "introduced", "said_again", "redacted"),
    [
        (
            "sv",
            ["Hej,", "jag", "heter", "Åsa", "Öberg."],
            ["ÅSA", "ÖBERG", "här,", "Åsas", "konto."],
            " [PERSON] här, [PERSON] konto.",
        ),
        (
            "en",
            ["My", "name", "is", "John", "Smith."],
            ["it", "is", "john", "smith", "again."],
            " it is [PERSON] again.",
        ),
        (
            "fi",
            ["Nimeni", "on", "Liisa", "Virtanen."],
            ["Liisalle", "soitetaan,", "Virtasen", "tili", "on", "auki."],
            " [PERSON] soitetaan, [PERSON] tili on auki.",
        ),
        # One word in lower case is left: most given names are words too ("anna" is Finnish for "give").
        ("fi", ["Nimeni", "on", "Anna", "Virtanen."], ["anna", "numero."], " anna numero."),
    ],
)
def test_a_name_said_again_in_capitals_in_lower_case_or_inflected_is_redacted(
    language: str, introduced: list[str], said_again: list[str], redacted: str
) -> None:
    """Found by a search and redaction pass: "ÅSA ÖBERG här", "john smith", "Liisalle" and "Virtasen" stayed in the
    twin, and a trainer found the call by the customer's name."""
    # Two segments between: the introduction is no longer the context a segment's capitalised words are read in.
    said = [
        segment("customer", 0.0, introduced),
        segment("agent", 3.0, ["okei."]),
        segment("customer", 4.0, ["hetki."]),
        segment("customer", 5.0, said_again),
    ]
    assert redact_transcript(said, language).twin[3]["text"] == redacted


@pytest.mark.parametrize(
    ("language", "statement", "next_words"),
    [
        ("fi", ["Nimeni", "on", "Liisa", "Virtanen."], ["Mikä", "on", "puhelinnumeronne?"]),
        ("en", ["My", "name", "is", "John", "Smith."], ["Call", "me", "at", "noon."]),
        ("sv", ["Jag", "heter", "Åsa", "Öberg."], ["Ring", "mig", "på", "måndag."]),
    ],
)
def test_a_name_given_in_a_statement_does_not_make_the_next_words_names(
    language: str, statement: list[str], next_words: list[str]
) -> None:
    """Found by a search and redaction pass: after a segment saying "nimeni", every capitalised word opening the next
    two segments became [PERSON] ("[PERSON] on puhelinnumeronne?"), hiding words supervisors search for."""
    said = [segment("customer", 0.0, statement), segment("agent", 3.0, next_words)]
    assert redact_transcript(said, language).twin[1]["text"] == " " + " ".join(next_words)


@pytest.mark.parametrize(
    ("language", "question", "halves", "kind"),
    [
        ("fi", ["Mikä", "on", "kortin", "numero?"], (["4111", "1111"], ["1111", "1111."]), "card"),
        (
            "en",
            ["Can", "I", "have", "the", "card", "number?"],
            (["four", *["one"] * 7], ["one"] * 8),
            "card",
        ),
        ("fi", ["Mikä", "on", "tilinumeronne?"], (["FI21", "1234", "5600"], ["0007", "85."]), "iban"),
        ("fi", ["Henkilötunnus?"], (["131052"], ["viiva", "308T."]), "personal_id"),
        ("fi", ["Mikä", "on", "puhelinnumeronne?"], (["Se", "on", "040"], ["123", "4567."]), "phone"),
    ],
)
def test_a_value_read_over_two_segments_is_redacted_in_both(
    language: str, question: list[str], halves: tuple[list[str], list[str]], kind: str
) -> None:
    """Found by a redaction pass (critical for cards, PCI DSS 3.3.1): each segment was read alone, so neither half of
    a card number read in two breaths was long enough to be one, and the whole number stayed in the twin, in the
    stored text and, unmuted, in the original. The agent's "Joo." between the halves does not part them."""
    said = [
        segment("agent", 0.0, question),
        segment("customer", 3.0, halves[0]),
        segment("agent", 6.0, ["Joo."]),
        segment("customer", 7.0, halves[1]),
    ]
    redacted = redact_transcript(said, language)
    marker = f"[{kind.upper()}]"
    assert marker in redacted.twin[1]["text"] and marker in redacted.twin[3]["text"]
    assert not any(character.isdigit() for character in redacted.twin[1]["text"] + redacted.twin[3]["text"])
    # Muted from where the value begins to the end of the first half, and the whole second half.
    first, second = redactions_of(redacted.twin)
    assert (first.segment, first.end_s) == (1, said[1]["end"])
    assert (second.segment, second.start_s, second.end_s) == (3, said[3]["start"], said[3]["end"])
    if kind == "card":
        assert "1111" not in " ".join(segment["text"] for segment in redacted.without_card_data)


def test_a_card_half_that_looks_like_a_phone_number_is_card_data() -> None:
    """Found by a review: the second half "0401 2342" was a phone number in its own segment, the merged finding kept
    that kind, and the half stayed in the stored text and unmuted in the original."""
    said = [
        segment("customer", 0.0, ["Korttinumero", "on", "4111", "1111"]),
        segment("customer", 3.0, ["0401", "2342"]),
    ]
    redacted = redact_transcript(said, "fi")
    assert [s["text"] for s in redacted.twin] == [" Korttinumero on [CARD]", " [CARD]"]
    assert [s["text"] for s in redacted.without_card_data] == [" Korttinumero on [CARD]", " [CARD]"]


@pytest.mark.parametrize(
    ("language", "request_words", "answer"),
    [
        ("fi", ["Kertoisitteko", "nimenne."], ["Liisa", "Virtanen."]),
        ("en", ["Your", "full", "name,", "please."], ["Mike", "Ross."]),
    ],
)
def test_a_request_for_a_name_ending_in_a_full_stop_still_asks_for_one(
    language: str, request_words: list[str], answer: list[str]
) -> None:
    """Found by a review: only a question mark counted after the change that stopped statements making names."""
    said = [segment("agent", 0.0, request_words), segment("customer", 3.0, answer)]
    assert redact_transcript(said, language).twin[1]["text"] == " [PERSON]."


def test_numbers_in_a_row_that_make_no_value_stay() -> None:
    said = [segment("customer", 0.0, ["Lasku", "oli", "120"]), segment("customer", 3.0, ["euroa", "ja", "80."])]
    assert [s["text"] for s in redact_transcript(said, "fi").twin] == [" Lasku oli 120", " euroa ja 80."]


@pytest.mark.parametrize(
    ("language", "said", "redacted"),
    [
        # The agent's own greeting is a name only where the word after it ends the clause.
        (
            "fi",
            [["Selvä,", "tässä", "on", "lasku."], ["Selvästi", "näkyy."]],
            [" Selvä, tässä on lasku.", " Selvästi näkyy."],
        ),
        ("fi", [["Lasku", "tässä", "näyttää", "oikealta."], ["Laskussa", "virhe."]], None),
        ("en", [["Okay,", "Tuesday", "here", "works."], ["Tuesday", "is", "fine."]], None),
        (
            "fi",
            [["Anna", "tässä,", "miten", "voin", "auttaa?"], ["Hei", "Anna."]],
            [" [PERSON] tässä, miten voin auttaa?", " Hei [PERSON]."],
        ),
        # After a name question the answer's opening words are the name, not every capitalised word after it.
        (
            "en",
            [
                ["What's", "your", "name?"],
                ["Mike", "Ross.", "About", "the", "Invoice."],
                ["What", "is", "the", "Invoice", "number?"],
            ],
            [" What's your name?", " [PERSON]. About the Invoice.", " What is the Invoice number?"],
        ),
    ],
)
def test_ordinary_words_are_not_taken_for_names_and_spread(
    language: str, said: list[list[str]], redacted: list[str] | None
) -> None:
    """Found by a redaction pass: the agent's "Selvä, tässä on…" made "Selvä" a name, and with it "Selvästi",
    "Laskussa" or "Tuesday" were redacted (and muted) all through the call."""
    segments = [
        segment("agent" if index % 2 == 0 else "customer", 3.0 * index, words) for index, words in enumerate(said)
    ]
    expected = redacted or [segment["text"] for segment in segments]
    assert [segment["text"] for segment in redact_transcript(segments, language).twin] == expected
