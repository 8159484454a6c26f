"""The access package's README says in Finnish all that it says in English: a Finnish customer reads every file
described, that card data was muted, and whether recipients confirmed returning or destroying their copies.

Found by exploratory testing in Finnish: the Finnish paragraph left out the card-data muting and the recipients'
confirmations, and called the transcripts "tekstitykset" (subtitles) where every page says "litteraatti"."""

from __future__ import annotations

import re

from recordings_service.privacy.access_package import README

ENGLISH, FINNISH = README.split("Puhelutallenteesi Callvaultissa", 1)


def _files_listed(text: str) -> list[str]:
    return re.findall(r"^- ([\w/<>.*]+)", text, flags=re.M)


def test_the_finnish_part_lists_every_file_the_english_part_does() -> None:
    assert len(_files_listed(ENGLISH)) >= 6
    assert _files_listed(FINNISH) == _files_listed(ENGLISH)


def test_the_finnish_part_says_what_the_english_part_promises() -> None:
    assert "PCI DSS 3.3.1" in ENGLISH and "PCI DSS 3.3.1" in FINNISH
    assert "audio_missing" in FINNISH and "retention.kept_despite_erasure" in FINNISH
    assert "hävittäneensä" in FINNISH  # the recipients' confirmation of destruction
    assert "litteraatti" in FINNISH and "tekstity" not in FINNISH
