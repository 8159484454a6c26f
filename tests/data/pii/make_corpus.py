"""Writes the labelled PII corpus (fi.jsonl, sv.jsonl, en.jsonl) of a Finnish energy utility's customer calls.

    .venv/bin/python tests/data/pii/make_corpus.py

Every identity is synthetic: identity codes, IBANs and card numbers are generated here with valid checksums
(computed with python-stdnum, the same library the detectors validate with), names and streets are common
ones. Seeded, so a rerun writes the same files. Each line is one utterance:
`{"text", "language", "context"?, "pii": [{"kind", "value"}]}`, value being an exact substring of text.

Out of scope, and therefore not in the corpus (say so here rather than leave a case the detector misses):
- names in transcripts the engine wrote in lower case ("nimeni on matti virtanen"): names are found by their
  capital letters after a cue;
- a name introduced with no cue at all ("Virtanen." as a whole answer) unless the question is about a name;
- addresses without a house number or postal code ("asun Hämeenkadulla");
- IBAN country codes read as letter names ("äf ii kaksikymmentäyksi…") and e-mails spelled letter by letter;
- a card number split across two utterances (detection works on one utterance, plus the preceding one as
  context).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

from stdnum import iban, luhn
from stdnum.fi import hetu

HERE = Path(__file__).parent
rng = random.Random(20240611)

Pii = Sequence[tuple[str, str]]
T = TypeVar("T")

FI_DIGITS = ["nolla", "yksi", "kaksi", "kolme", "neljä", "viisi", "kuusi", "seitsemän", "kahdeksan", "yhdeksän"]
SV_DIGITS = ["noll", "ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio"]
EN_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
EN_TEENS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
SV_TEENS = ["tio", "elva", "tolv", "tretton", "fjorton", "femton", "sexton", "sjutton", "arton", "nitton"]
SV_TENS = ["", "", "tjugo", "trettio", "fyrtio", "femtio", "sextio", "sjuttio", "åttio", "nittio"]

FI_FIRST = ["Matti", "Liisa", "Juha", "Anne", "Mikko", "Tiina", "Jari", "Sanna", "Pekka", "Aino", "Veikko", "Helmi"]
FI_LAST = [
    ("Virtanen", "Virtasen"),
    ("Korhonen", "Korhosen"),
    ("Mäkinen", "Mäkisen"),
    ("Nieminen", "Niemisen"),
    ("Mäkelä", "Mäkelän"),
    ("Hämäläinen", "Hämäläisen"),
    ("Laine", "Laineen"),
    ("Heikkinen", "Heikkisen"),
    ("Koskinen", "Koskisen"),
    ("Järvinen", "Järvisen"),
]
SV_FIRST = ["Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Mikael", "Sofia", "Anders"]
SV_LAST = ["Andersson", "Johansson", "Lindqvist", "Berg", "Nyström", "Holmberg", "Lindholm", "Sjöberg", "Ek"]
EN_FIRST = ["John", "Sarah", "David", "Emma", "Michael", "Laura", "James", "Olivia", "Daniel", "Grace"]
EN_LAST = ["Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Walker", "Wright"]

FI_STREETS = [
    ("Mannerheimintie", "Mannerheimintiellä"),
    ("Hämeenkatu", "Hämeenkadulla"),
    ("Koivukuja", "Koivukujalla"),
    ("Rantatie", "Rantatiellä"),
    ("Kauppakatu", "Kauppakadulla"),
    ("Mäntypolku", "Mäntypolulla"),
    ("Pihlajatie", "Pihlajatiellä"),
    ("Ratavartijankatu", "Ratavartijankadulla"),
]
FI_TOWNS = [("00100", "Helsinki"), ("33100", "Tampere"), ("20100", "Turku"), ("02600", "Espoo"), ("90100", "Oulu")]
SV_STREETS = ["Storgatan", "Kungsvägen", "Sveavägen", "Drottninggatan", "Björkvägen", "Strandvägen", "Skolgränd"]
SV_TOWNS = [("111 22", "Stockholm"), ("411 05", "Göteborg"), ("753 20", "Uppsala"), ("65100", "Vaasa")]
EN_STREETS = ["Baker Street", "High Street", "Church Road", "Station Road", "Park Lane", "Queens Avenue"]

EMAIL_DOMAINS = ["esimerkki.fi", "posti.fi", "gmail.com", "exempel.se", "example.com", "outlook.com", "kolumbus.fi"]


def pick(items: Sequence[T]) -> T:
    return items[rng.randrange(len(items))]


# --- identities with valid checksums ---------------------------------------------------------------


def make_hetu(*, century_sign: str | None = None, year_range: tuple[int, int] = (1930, 2008)) -> str:
    """A valid henkilötunnus; new-style century signs (2023 reform) picked at random unless given."""
    born = date(year_range[0], 1, 1) + timedelta(days=rng.randrange((year_range[1] - year_range[0]) * 365))
    if century_sign is None:
        century_sign = pick("-YXWVU") if born.year < 2000 else pick("ABCDEF")
    individual = f"{rng.randrange(2, 900):03d}"
    stem = born.strftime("%d%m%y")
    check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(stem + individual) % 31]
    code = stem + century_sign + individual + check
    assert hetu.is_valid(code), code
    return code


def make_personnummer(*, with_century: bool = False, sign: str = "-") -> str:
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(60 * 365))
    serial = f"{rng.randrange(1000):03d}"
    stem = born.strftime("%y%m%d") + serial
    check = luhn.calc_check_digit(stem)
    short = f"{stem[:6]}{sign}{stem[6:]}{check}"
    return (born.strftime("%Y")[:2] + short) if with_century else short


def make_iban(country: str = "FI") -> str:
    bban_lengths = {"FI": 14, "SE": 20, "DE": 18, "EE": 16, "NO": 11}
    while True:
        bban = "".join(str(rng.randrange(10)) for _ in range(bban_lengths[country]))
        compact = country + iban.calc_check_digits(country + "00" + bban) + bban
        # Some countries (Norway) add a national check digit of their own: draw until that holds too.
        if iban.is_valid(compact):
            break
    return " ".join(compact[index : index + 4] for index in range(0, len(compact), 4))


def make_card(prefix: str | None = None, length: int = 16) -> str:
    prefix = prefix or pick(["4", "51", "53", "55", "2221", "37", "6011"])
    if prefix in ("37",):
        length = 15
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    card = body + luhn.calc_check_digit(body)
    assert luhn.is_valid(card)
    return card


def make_non_luhn(length: int = 16, first: str = "4") -> str:
    while True:
        digits = first + "".join(str(rng.randrange(10)) for _ in range(length - 1))
        if not luhn.is_valid(digits):
            return digits


def grouped(digits: str, sep: str = " ", size: int = 4) -> str:
    if len(digits) == 15:  # American Express is read 4-6-5
        return sep.join([digits[:4], digits[4:10], digits[10:]])
    return sep.join(digits[index : index + size] for index in range(0, len(digits), size))


def fi_mobile() -> str:
    return pick(["040", "041", "044", "045", "046", "050"]) + "".join(str(rng.randrange(10)) for _ in range(7))


def cvv(length: int = 3) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(length))


def customer_number() -> str:
    return str(rng.randrange(10**7, 10**8))


# --- numbers read aloud --------------------------------------------------------------------------


def fi_spoken_digits(digits: str) -> str:
    return " ".join(FI_DIGITS[int(digit)] for digit in digits if digit.isdigit())


def sv_spoken_digits(digits: str) -> str:
    return " ".join(SV_DIGITS[int(digit)] for digit in digits if digit.isdigit())


def en_spoken_digits(digits: str, zero: str = "zero") -> str:
    words = [zero if digit == "0" else EN_DIGITS[int(digit)] for digit in digits if digit.isdigit()]
    return " ".join(words)


def en_pair(pair: str) -> str:
    if pair[0] == "0":
        return f"oh {EN_DIGITS[int(pair[1])]}"
    value = int(pair)
    if value < 20:
        return EN_TEENS[value - 10]
    tens, unit = divmod(value, 10)
    return EN_TENS[tens] + ("" if unit == 0 else f" {EN_DIGITS[unit]}")


def en_spoken_pairs(digits: str) -> str:
    """A card read in pairs, as English speakers do: "forty five thirty two, oh one fifty one"."""
    groups = [digits[index : index + 4] for index in range(0, len(digits), 4)]
    spoken = []
    for group in groups:
        pairs = [group[index : index + 2] for index in range(0, len(group), 2)]
        spoken.append(" ".join(en_pair(pair) if len(pair) == 2 else EN_DIGITS[int(pair)] for pair in pairs))
    return ", ".join(spoken)


def sv_pair(pair: str) -> str:
    if pair[0] == "0":
        return f"noll {SV_DIGITS[int(pair[1])]}"
    value = int(pair)
    if value < 20:
        return SV_TEENS[value - 10]
    tens, unit = divmod(value, 10)
    return SV_TENS[tens] + ("" if unit == 0 else SV_DIGITS[unit])


def sv_spoken_phone(number: str) -> str:
    """A Swedish mobile read the Swedish way: "noll sjuttio, ett två tre, fyrtiofem, sextiosju"."""
    groups = [
        f"noll {SV_TENS[int(number[1])]}",
        sv_spoken_digits(number[3:6]),
        sv_pair(number[6:8]),
        sv_pair(number[8:]),
    ]
    return ", ".join(groups)


# --- records -------------------------------------------------------------------------------------

Record = dict[str, object]


def record(language: str, text: str, pii: Pii = (), context: str = "") -> Record:
    for _kind, value in pii:
        assert text.count(value) == 1, (text, value)
    line: Record = {"text": text, "language": language}
    if context:
        line["context"] = context
    line["pii"] = [{"kind": kind, "value": value} for kind, value in pii]
    return line


def finnish() -> list[Record]:
    out: list[Record] = []
    add = out.append
    # Identity codes, every century sign at least once (the 2023 signs Y X W V U and B C D E F included).
    for sign in "-YXWVU":
        code = make_hetu(century_sign=sign, year_range=(1930, 1999))
        add(record("fi", f"Henkilötunnukseni on {code}.", [("personal_id", code)]))
    for sign in "ABCDEF":
        code = make_hetu(century_sign=sign, year_range=(2000, 2009))
        add(record("fi", f"Sopimus tehdään pojan nimiin, hänen hetunsa on {code}.", [("personal_id", code)]))
    code = make_hetu(century_sign="+", year_range=(1870, 1899))
    add(record("fi", f"Perunkirjoitusta varten isoisän tunnus oli {code}.", [("personal_id", code)]))
    for _ in range(3):
        code = make_hetu()
        add(record("fi", f"Joo, se on {code.lower()} eli pienellä kirjoitettuna.", [("personal_id", code.lower())]))
    for _ in range(3):
        code = make_hetu(century_sign="-", year_range=(1950, 1999))
        if code[-1].isdigit():
            spoken = f"{fi_spoken_digits(code[:6])} viiva {fi_spoken_digits(code[7:])}"
        else:
            spoken = f"{fi_spoken_digits(code[:6])} viiva {fi_spoken_digits(code[7:10])} {code[-1]}"
        add(record("fi", f"Se on {spoken}.", [("personal_id", spoken)], context="Kertoisitteko henkilötunnuksen?"))
    # Cards, written in the groups engines use.
    for sep in (" ", " ", "-", ""):
        card = make_card()
        text = grouped(card, sep) if sep else card
        add(record("fi", f"Maksan kortilla, numero on {text}.", [("card", text)]))
    card = grouped(make_card("37"))
    add(record("fi", f"Se on American Express, {card}.", [("card", card)]))
    card, code = grouped(make_card()), cvv()
    add(record("fi", f"Kortinnumero on {card} ja turvakoodi {code}.", [("card", card), ("card_security_code", code)]))
    card = grouped(make_card())
    add(record("fi", f"{card}", [("card", card)], context="Voisitteko lukea luottokortin numeron?"))
    # Card read aloud digit by digit.
    for _ in range(3):
        card = make_card()
        spoken = fi_spoken_digits(card)
        add(record("fi", f"Kortin numero on {spoken}.", [("card", spoken)]))
    card = make_card()
    spoken = ", ".join(fi_spoken_digits(card[index : index + 4]) for index in range(0, 16, 4))
    add(record("fi", f"Joo, eli {spoken}.", [("card", spoken)], context="Mikä on kortin numero?"))
    # Engine-mangled card reads in card talk: thousands separators, a dropped or doubled digit, "Nero".
    card = make_card("4")
    mangled = f"{card[0]},{card[1:8]} {card[8:12]} {card[12:]}"
    add(record("fi", f"Kortin numero on {mangled}.", [("card", mangled)]))
    card = make_card("5")
    mangled = grouped(card[:9] + card[10:])
    add(record("fi", f"Luottokortin numero on {mangled}.", [("card", mangled)]))
    card = make_card("4")
    mangled = grouped(card[:5] + card[4:])
    add(record("fi", f"Visa, numero {mangled}.", [("card", mangled)]))
    card = make_card("4") + ""
    mangled = f"{card[:4]} Nero {card[5:8]} {card[8:12]} {card[12:]}"
    add(record("fi", f"Kortin numero {mangled}.", [("card", mangled)]))
    card = make_card("5")
    mangled = ",".join([card[0]] + [card[index : index + 3] for index in range(1, 16, 3)])
    add(record("fi", f"Se on {mangled}.", [("card", mangled)], context="Sitten tarvitsen kortin numeron."))
    # Security codes and expiry dates.
    for cue in ("Turvakoodi on", "CVV on", "Tarkistusnumero on", "Kortin takana olevat kolme numeroa ovat"):
        code = cvv()
        add(record("fi", f"{cue} {code}.", [("card_security_code", code)]))
    code = cvv()
    spoken = fi_spoken_digits(code)
    add(record("fi", f"Turvanumero on {spoken}.", [("card_security_code", spoken)]))
    code = cvv()
    add(record("fi", f"Se on {code}.", [("card_security_code", code)], context="Entä kortin turvakoodi?"))
    add(record("fi", "Kortti on voimassa 12/28 asti.", [("card_expiry", "12/28")]))
    add(record("fi", "Voimassaolo päättyy 03/27, se on Mastercard.", [("card_expiry", "03/27")]))
    add(record("fi", "Kortti vanhenee joulukuussa 2028.", [("card_expiry", "joulukuussa 2028")]))
    spoken = "kaksitoista kaksikymmentäseitsemän"
    add(record("fi", f"Voimassa {spoken}.", [("card_expiry", spoken)], context="Milloin kortti vanhenee?"))
    add(record("fi", "Luottokortti on voimassa toukokuu 2027 asti.", [("card_expiry", "toukokuu 2027")]))
    # IBANs: Finnish and a few foreign ones, written and read aloud.
    for _ in range(4):
        account = make_iban("FI")
        add(record("fi", f"Hyvityksen voi maksaa tilille {account}.", [("iban", account)]))
    account = make_iban("FI").replace(" ", "")
    add(record("fi", f"Tilinumero on {account}, Nordea.", [("iban", account)]))
    for country in ("SE", "DE", "EE"):
        account = make_iban(country)
        add(record("fi", f"Asun nyt ulkomailla, tilini on {account}.", [("iban", account)]))
    account = make_iban("FI").replace(" ", "")
    spoken = "FI " + fi_spoken_digits(account[2:])
    add(record("fi", f"Tili on {spoken}.", [("iban", spoken)]))
    # Phone numbers.
    mobile = fi_mobile()
    formats = [
        f"{mobile[:3]} {mobile[3:6]} {mobile[6:]}",
        mobile,
        f"+358 {mobile[1:3]} {mobile[3:6]} {mobile[6:]}",
        f"{mobile[:3]}-{mobile[3:]}",
        "09 " + f"{rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
        f"+358{fi_mobile()[1:]}",
    ]
    for phone in formats:
        add(record("fi", f"Minut tavoittaa numerosta {phone}, soittakaa iltapäivällä.", [("phone", phone)]))
    mobile = fi_mobile()
    spoken = f"{fi_spoken_digits(mobile[:3])}, {fi_spoken_digits(mobile[3:6])}, {fi_spoken_digits(mobile[6:])}"
    add(record("fi", f"Puhelinnumero on {spoken}.", [("phone", spoken)]))
    mobile = fi_mobile()
    spoken = fi_spoken_digits(mobile)
    add(record("fi", f"Numero on {spoken}.", [("phone", spoken)], context="Mihin numeroon voimme soittaa?"))
    # E-mail addresses.
    first, (last, _) = pick(FI_FIRST), pick(FI_LAST)
    address = f"{first.lower()}.{last.lower()}@{pick(EMAIL_DOMAINS)}"
    add(record("fi", f"Lähettäkää e-lasku osoitteeseen {address}.", [("email", address)]))
    spoken_emails = [
        "matti piste virtanen at esimerkki piste fi",
        "liisa piste korhonen ät gmail piste com",
        "jari89 miukumauku posti piste fi",
        "sanna alaviiva makinen kissanhäntä outlook piste com",
        "pekka.heikkinen ät kolumbus piste fi",
    ]
    for spoken in spoken_emails:
        add(record("fi", f"Sähköpostini on {spoken}, siihen voi laittaa laskun.", [("email", spoken)]))
    # Customer numbers.
    for cue in ("Asiakasnumeroni on", "Asiakasnumero on", "Mulla on asiakasnumero"):
        number = customer_number()
        add(record("fi", f"{cue} {number}.", [("customer_number", number)]))
    number = customer_number()
    spoken = fi_spoken_digits(number)
    add(record("fi", f"Asiakasnumero on {spoken}.", [("customer_number", spoken)]))
    number = customer_number()
    grouped_number = f"{number[:4]} {number[4:]}"
    add(
        record(
            "fi", f"Se on {grouped_number}.", [("customer_number", grouped_number)], context="Mikä on asiakasnumeronne?"
        )
    )
    # Names.
    for cue in ("Nimeni on", "Tässä puhuu", "Hei, mun nimi on", "Olen"):
        name = f"{pick(FI_FIRST)} {pick(FI_LAST)[0]}"
        add(record("fi", f"{cue} {name}, soitan sähkösopimuksesta.", [("person", name)]))
    first, (_, genitive) = pick(FI_FIRST), pick(FI_LAST)
    add(record("fi", f"Soitan äitini {first} {genitive} puolesta.", [("person", f"{first} {genitive}")]))
    first, (_, genitive) = pick(FI_FIRST), pick(FI_LAST)
    add(record("fi", f"Sopimus on {first} {genitive} nimissä.", [("person", f"{first} {genitive}")]))
    add(record("fi", "Sukunimi kirjoitetaan V-I-R-T-A-N-E-N.", [("person", "V-I-R-T-A-N-E-N")]))
    add(record("fi", "Se on H-Ä-M-Ä-L-Ä-I-N-E-N.", [("person", "H-Ä-M-Ä-L-Ä-I-N-E-N")]))
    add(record("fi", "Vaimoni nimi on Aino ja sopimus on hänen nimissään.", [("person", "Aino")]))
    # Addresses.
    street, adessive = pick(FI_STREETS)
    add(record("fi", f"Muutan osoitteeseen {street} 12 B 34.", [("address", f"{street} 12 B 34")]))
    street, adessive = pick(FI_STREETS)
    postal, town = pick(FI_TOWNS)
    full = f"{street} 5 as 3, {postal} {town}"
    add(record("fi", f"Uusi osoite on {full}, muutto on ensi kuussa.", [("address", full)]))
    street, adessive = FI_STREETS[1]
    add(record("fi", f"Asun {adessive} 7 A 2 ja haluan sopimuksen.", [("address", f"{adessive} 7 A 2")]))
    postal, town = pick(FI_TOWNS)
    add(record("fi", f"Postinumero on {postal} {town}.", [("address", f"{postal} {town}")]))
    add(record("fi", "Osoite on Koivukuja kaksitoista.", [("address", "Koivukuja kaksitoista")]))
    street, _ = pick(FI_STREETS)
    add(record("fi", f"Sähköt pitäisi katkaista vanhasta asunnosta, {street} 21 C.", [("address", f"{street} 21 C")]))
    # Everything at once, as a customer moving house says it.
    code, phone, name = make_hetu(), f"050 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}", "Juha Laine"
    text = f"Nimeni on {name}, hetu {code}, ja numeroni on {phone}."
    add(record("fi", text, [("person", name), ("personal_id", code), ("phone", phone)]))

    # Harder cases, written after the first detector run and kept whatever it made of them.
    card = make_card("4")
    groups = [fi_spoken_digits(card[index : index + 4]) for index in range(0, 16, 4)]
    spoken = f"{groups[0]}, sitten {groups[1]}, {groups[2]} ja {groups[3]}"
    add(record("fi", f"Eli {spoken}.", [("card", spoken)], context="Sanoisitteko kortin numeron?"))
    mobile = fi_mobile()
    spoken = f"plus kolme viisi kahdeksan {fi_spoken_digits(mobile[1:3])} {fi_spoken_digits(mobile[3:])}"
    add(record("fi", f"Numeroni on {spoken}.", [("phone", spoken)]))
    add(record("fi", "Joo, Mikko Koskinen tässä, hei.", [("person", "Mikko Koskinen")]))
    add(record("fi", "Soitan isäni Veikko Mäkelän asioista, hän on sairaalassa.", [("person", "Veikko Mäkelän")]))
    add(record("fi", "Asun Kauppakatu 3:ssa ja sähköt katkesivat.", [("address", "Kauppakatu 3")]))
    add(
        record(
            "fi",
            "Tiedot meni osoitteeseen sanna.heikkinen@gmail.com eikä mulle.",
            [("email", "sanna.heikkinen@gmail.com")],
        )
    )
    code = make_hetu(century_sign="A", year_range=(2000, 2009))
    add(record("fi", f"Tyttären hetu on {code} ja hän muuttaa omaan asuntoon.", [("personal_id", code)]))
    hard_near_misses = [
        "Viitenumero on RF18 5390 0754 7034.",
        "Y-tunnus on 1234567-8, se on yrityksen sopimus.",
        "Meillä on kaksi autoa ja kolme lasta, joten kulutus on suuri.",
        "Olin yhteydessä 12.5. klo 9.15 ja uudelleen 14.5.",
        "Kulutus oli 10 000 kWh ja hinta 0,12 €/kWh.",
        "Sopimus on voimassa 12/2025 asti.",
        "Syntymäaika on 13.10.1952.",
        "Lasku tässä on ihan väärin.",
        "Maksoin kortilla 45,50 euroa 3.4.2024.",
        "Kuukausimaksu nousee 1.1.2025 alkaen 4,90 euroon.",
    ]
    out.extend(record("fi", text) for text in hard_near_misses)

    # A third batch, written blind (without running the detector first) and kept as it came out.
    add(
        record(
            "fi",
            "Se on Virtanen, Matti Virtanen.",
            [("person", "Virtanen, Matti Virtanen")],
            context="Kenen nimissä sopimus on?",
        )
    )
    add(record("fi", "Osoite on Pihlajatie 14 A 3, Vantaa.", [("address", "Pihlajatie 14 A 3")]))
    add(record("fi", "Puhelinnumero on 044 9876 543.", [("phone", "044 9876 543")]))
    card = make_card("5")
    spaced = " ".join(card)
    add(record("fi", f"Kortin numero on {spaced}.", [("card", spaced)]))
    add(record("fi", "Turvakoodi, hetkinen, se on 4 3 7.", [("card_security_code", "4 3 7")]))
    code = make_hetu()
    spaced = f"{code[:6]} {code[6]} {code[7:]}"
    add(record("fi", f"Hetu on {spaced}.", [("personal_id", spaced)]))
    add(record("fi", "Sukunimi on Mäkinen, M-Ä-K-I-N-E-N.", [("person", "Mäkinen, M-Ä-K-I-N-E-N")]))
    spoken = fi_spoken_digits(customer_number())
    add(record("fi", f"Asiakasnumero, hetkinen, {spoken}.", [("customer_number", spoken)]))
    blind_near_misses = [
        "Sähkön hinta on 8,99 senttiä ja perusmaksu 4,50 €/kk.",
        "Asiakasnumeron löytää laskun oikeasta yläkulmasta.",
        "Mittarin numero on 12345678 ja lukema 23 456.",
        "Maksoin laskun 150,80 euroa kortilla 15.3.2024.",
        "Muutin tänne vuonna 2015 ja sopimus on ollut siitä asti.",
    ]
    out.extend(record("fi", text) for text in blind_near_misses)

    # Near-misses: numbers every utility call is full of, none of them personal data.
    reference = make_non_luhn(20, "1")
    meter_point = "643" + "".join(str(rng.randrange(10)) for _ in range(15))
    near_misses = [
        "Lasku erääntyy 12.3.2024 ja summa on 49,90 euroa.",
        "Mittarilukema on 045123.",
        "Vuosikulutus oli noin 3 500 kWh.",
        "Kulutus oli viime vuonna 12 400 kilowattituntia.",
        "Tilausnumero on 4839201.",
        "Hinta on 1 250 € vuodessa.",
        "Soitan uudelleen klo 14.30.",
        "Muutto on 1.6.2025 ja avaimet saan edellisenä päivänä.",
        "Sopimus alkoi vuonna 2019.",
        "Lähettäkää lasku osoitteeseen PL 123.",
        f"Viitenumero on {reference}.",
        f"Käyttöpaikan tunnus on {meter_point}.",
        f"Sopimusnumero on {make_non_luhn(16, '4')}.",
        f"Laskun numero oli {make_non_luhn(12, '7')}.",
        "Henkilötunnus 131052-308U meni väärin, tarkistan sen.",
        "Perusmaksu on 3,95 euroa kuukaudessa ja energia 8,5 senttiä kilowattitunnilta.",
        "Mittarin lukema oli kaksikymmentäkolme tuhatta neljäsataa.",
        "Olen Valoverkon asiakas jo kymmenen vuoden ajalta.",
        "Lasku on kaksi sataa kolmekymmentä euroa, eräpäivä on viidestoista päivä.",
        "Kortti ei toiminut kaupassa eilen, maksoin maaliskuussa 2024 kortilla laskun.",
        "Kuukausiarvio on 85 euroa ja tasauslasku tulee joulukuussa.",
        "Kaukolämmön sopimus 2023, tehoa 15 kW.",
        "Sähköauton latauksessa meni 40 kWh viikossa.",
        "Olen muuttamassa Tampereelle kesäkuussa.",
        "Pääsulake on 3 x 25 ampeeria.",
    ]
    out.extend(record("fi", text) for text in near_misses)
    return out


def swedish() -> list[Record]:
    out: list[Record] = []
    add = out.append
    for _ in range(3):
        number = make_personnummer()
        add(record("sv", f"Mitt personnummer är {number}.", [("personal_id", number)]))
    number = make_personnummer(with_century=True)
    add(record("sv", f"Personnumret är {number}.", [("personal_id", number)]))
    number = make_personnummer(with_century=True, sign="")
    add(record("sv", f"Det är {number}.", [("personal_id", number)]))
    number = make_personnummer(sign="+")
    add(record("sv", f"Min farfar har personnummer {number}.", [("personal_id", number)]))
    number = make_personnummer(sign="")
    while number.startswith("0"):
        number = make_personnummer(sign="")
    add(record("sv", f"Personnummer {number}, tack.", [("personal_id", number)]))
    code = make_hetu()
    add(record("sv", f"Jag bor i Vasa och min finska personbeteckning är {code}.", [("personal_id", code)]))
    for _ in range(3):
        card = grouped(make_card())
        add(record("sv", f"Kortnumret är {card}.", [("card", card)]))
    card = make_card()
    spoken = sv_spoken_digits(card)
    add(record("sv", f"Kortnummer {spoken}.", [("card", spoken)]))
    card = make_card("5")
    mangled = f"{card[:4]} {card[4:8]} {card[8:12]} {card[12:]}{card[-1]}"
    add(record("sv", f"Mitt kreditkort, {mangled}.", [("card", mangled)]))
    card = make_card("4")
    mangled = f"{card[0]},{card[1:8]} {card[8:]}"
    add(record("sv", f"Det är {mangled}.", [("card", mangled)], context="Kan du läsa upp kortnumret?"))
    for cue in ("Säkerhetskoden är", "CVC är", "Kontrollsiffrorna är"):
        code = cvv()
        add(record("sv", f"{cue} {code}.", [("card_security_code", code)]))
    code = cvv()
    spoken = sv_spoken_digits(code)
    add(record("sv", f"De tre siffrorna på baksidan är {spoken}.", [("card_security_code", spoken)]))
    add(record("sv", "Kortet är giltigt till 11/27.", [("card_expiry", "11/27")]))
    add(record("sv", "Det är ett Visa-kort som går ut december 2028.", [("card_expiry", "december 2028")]))
    for country in ("SE", "FI", "NO"):
        account = make_iban(country)
        add(record("sv", f"Återbetalningen kan gå till kontot {account}.", [("iban", account)]))
    mobile = "07" + str(rng.choice([0, 2, 3, 6])) + "".join(str(rng.randrange(10)) for _ in range(7))
    for phone in (
        f"{mobile[:3]}-{mobile[3:6]} {mobile[6:8]} {mobile[8:]}",
        f"+46 {mobile[1:3]} {mobile[3:6]} {mobile[6:8]} {mobile[8:]}",
        f"{mobile[:3]}-{mobile[3:]}",
    ):
        add(record("sv", f"Ni når mig på {phone}.", [("phone", phone)]))
    mobile = fi_mobile()
    phone = f"{mobile[:3]} {mobile[3:6]} {mobile[6:]}"
    add(record("sv", f"Mitt finska nummer är {phone}.", [("phone", phone)]))
    spoken = sv_spoken_phone("0701234567")
    add(record("sv", f"Telefonnumret är {spoken}.", [("phone", spoken)]))
    mobile = "0" + str(rng.choice([70, 72, 73, 76])) + "".join(str(rng.randrange(10)) for _ in range(7))
    spoken = sv_spoken_phone(mobile)
    add(record("sv", f"Ja, {spoken}.", [("phone", spoken)], context="Vilket nummer kan vi ringa?"))
    add(record("sv", "Mejla mig på anna.berg@exempel.se.", [("email", "anna.berg@exempel.se")]))
    for spoken in ("erik punkt lindqvist snabel-a exempel punkt se", "karin snabela telia punkt com"):
        add(record("sv", f"Min e-post är {spoken}.", [("email", spoken)]))
    number = customer_number()
    add(record("sv", f"Mitt kundnummer är {number}.", [("customer_number", number)]))
    number = customer_number()
    spoken = sv_spoken_digits(number)
    add(record("sv", f"Kundnumret är {spoken}.", [("customer_number", spoken)]))
    for cue in ("Jag heter", "Mitt namn är", "Hej, det är"):
        name = f"{pick(SV_FIRST)} {pick(SV_LAST)}"
        add(record("sv", f"{cue} {name} och jag ringer om min elräkning.", [("person", name)]))
    add(record("sv", "Min man heter Lars och står också på avtalet.", [("person", "Lars")]))
    add(record("sv", "Efternamnet stavas L-I-N-D-H-O-L-M.", [("person", "L-I-N-D-H-O-L-M")]))
    street = pick(SV_STREETS)
    add(record("sv", f"Jag flyttar till {street} 5.", [("address", f"{street} 5")]))
    street, (postal, town) = pick(SV_STREETS), pick(SV_TOWNS)
    full = f"{street} 14 B, {postal} {town}"
    add(record("sv", f"Min nya adress är {full}.", [("address", full)]))
    add(record("sv", "Adressen är Storgatan 3 lgh 1102.", [("address", "Storgatan 3 lgh 1102")]))
    add(record("sv", "Jag bor på Kungsvägen tjugotre i Vasa.", [("address", "Kungsvägen tjugotre")]))
    add(record("sv", "Stugan ligger på Rantatie 8, 65100 Vaasa.", [("address", "Rantatie 8, 65100 Vaasa")]))

    # Harder cases, written after the first detector run and kept whatever it made of them.
    add(
        record(
            "sv", "Jag heter Karin och ringer för min pappa Anders Ek.", [("person", "Karin"), ("person", "Anders Ek")]
        )
    )
    add(record("sv", "Vårt nummer hemma är 08-123 456 78.", [("phone", "08-123 456 78")]))
    spoken = "åttioett tolv tjugoåtta streck nittioåtta sjuttiofyra"
    add(record("sv", f"Det är {spoken}.", [("personal_id", spoken)], context="Vad är ditt personnummer?"))
    add(record("sv", "Jag betalade med kortet den 12/03/2024, 45,50 euro.", []))
    add(
        record(
            "sv",
            "Mejlen kom från kundtjanst at valoverkko punkt fi men jag svarade inte.",
            [("email", "kundtjanst at valoverkko punkt fi")],
        )
    )

    # A third batch, written blind (without running the detector first) and kept as it came out.
    add(record("sv", "Ja, det är Sjöberg, Eva Sjöberg.", [("person", "Sjöberg, Eva Sjöberg")]))
    add(record("sv", "Mitt mobilnummer är 073 123 45 67.", [("phone", "073 123 45 67")]))
    add(record("sv", "Jag bor på Drottninggatan 45 tr 3.", [("address", "Drottninggatan 45")]))
    spoken = sv_spoken_digits(make_card("4"))
    add(record("sv", f"Kortnumret är {spoken}.", [("card", spoken)]))
    add(record("sv", "Min e-postadress är lars.nystrom@telia.com.", [("email", "lars.nystrom@telia.com")]))
    blind_near_misses = [
        "Fakturanummer 20241234 förfaller 30 april.",
        "Vi har 16 ampere säkringar och förbrukar 20 000 kWh.",
        "Ring mig efter klockan fem.",
    ]
    out.extend(record("sv", text) for text in blind_near_misses)

    near_misses = [
        "Fakturan på 1 250 kronor förfaller den 12 mars 2024.",
        "Mätarställningen är 045123.",
        "Förbrukningen var 3 500 kWh förra året.",
        "Ordernummer 4839201 gäller den nya mätaren.",
        "Jag ringer tillbaka klockan 14.30.",
        "Avtalet började år 2019.",
        "Priset är 49,90 euro i månaden.",
        f"Referensnumret är {make_non_luhn(16, '5')}.",
        f"Anläggnings-id är {'643' + ''.join(str(rng.randrange(10)) for _ in range(15))}.",
        "Det var tjugotre grader inne i går.",
        "Jag flyttar den första juni och vill säga upp avtalet.",
        "Personnumret 811228-9875 stämmer inte, vänta lite.",
        "Kan du visa mig hur man läser av mätaren?",
        "Jag är kund hos Valoverkko sedan 2015.",
        "Elpriset var 12,5 cent per kilowattimme.",
        "Huvudsäkringen är 25 ampere.",
        f"Numret {make_non_luhn(16, '4')} står på fakturan.",
        "Vi förbrukade ungefär tvåtusen kilowattimmar i januari.",
    ]
    out.extend(record("sv", text) for text in near_misses)
    return out


def english() -> list[Record]:
    out: list[Record] = []
    add = out.append
    code = make_hetu()
    add(record("en", f"My Finnish personal identity code is {code}.", [("personal_id", code)]))
    code = make_hetu(century_sign="A", year_range=(2000, 2009))
    add(record("en", f"It's for my daughter, her ID is {code}.", [("personal_id", code)]))
    number = make_personnummer()
    add(record("en", f"My Swedish personal number is {number}.", [("personal_id", number)]))
    for sep in (" ", "-", ""):
        card = make_card()
        text = grouped(card, sep) if sep else card
        add(record("en", f"The card number is {text}.", [("card", text)]))
    card = make_card()
    spoken = en_spoken_digits(card, zero="oh")
    add(record("en", f"Okay, it's {spoken}.", [("card", spoken)], context="Could you read me the card number?"))
    card = make_card()
    spoken = en_spoken_pairs(card)
    add(record("en", f"My Visa is {spoken}.", [("card", spoken)]))
    card = make_card("4")
    while card[8] != card[9]:  # "double" must be true to the number
        card = make_card("4")
    spoken = en_spoken_digits(card[:8]) + " double " + EN_DIGITS[int(card[8])] + " " + en_spoken_digits(card[10:])
    add(record("en", f"Card number {spoken}.", [("card", spoken)]))
    card = make_card("5")
    mangled = f"{card[0]},{card[1:8]} {card[8:]}"
    add(record("en", f"It's a Mastercard, {mangled}.", [("card", mangled)]))
    card = make_card("4")
    mangled = f"{card[:4]} {card[4:8]} Nero {card[9:12]} {card[12:]}"
    add(record("en", f"The credit card number is {mangled}.", [("card", mangled)]))
    card = make_card("4")
    mangled = grouped(card[:12] + card[13:])
    add(record("en", f"Debit card {mangled}.", [("card", mangled)]))
    for cue in ("The security code is", "CVV is", "The three digits on the back are", "CVC2"):
        code = cvv()
        add(record("en", f"{cue} {code}.", [("card_security_code", code)]))
    add(record("en", "The security code is seven four two.", [("card_security_code", "seven four two")]))
    code = cvv(4)
    question = "And the four-digit security code on the front?"
    add(record("en", f"It's {code}.", [("card_security_code", code)], context=question))
    add(record("en", "The card expires 09/27.", [("card_expiry", "09/27")]))
    add(record("en", "Valid thru 11/2029 on the card.", [("card_expiry", "11/2029")]))
    add(record("en", "The card expires in December 2028.", [("card_expiry", "December 2028")]))
    for country in ("FI", "DE", "SE"):
        account = make_iban(country)
        add(record("en", f"Please refund to my account {account}.", [("iban", account)]))
    account = make_iban("FI").replace(" ", "")
    spoken = "FI " + en_spoken_digits(account[2:])
    add(record("en", f"The IBAN is {spoken}.", [("iban", spoken)]))
    mobile = fi_mobile()
    for phone in (f"+358 {mobile[1:3]} {mobile[3:6]} {mobile[6:]}", f"{mobile[:3]} {mobile[3:6]} {mobile[6:]}"):
        add(record("en", f"You can reach me on {phone}.", [("phone", phone)]))
    # Not 07700 900xxx: that range is reserved for drama and libphonenumber rightly calls it unallocated.
    add(record("en", "My UK mobile is +44 7911 123456.", [("phone", "+44 7911 123456")]))
    mobile = fi_mobile()
    spoken = en_spoken_digits(mobile, zero="oh")
    add(record("en", f"It's {spoken}.", [("phone", spoken)], context="What's the best number to call you back on?"))
    spoken = "oh four oh, double five, one two, three four five"
    add(record("en", f"My number is {spoken}.", [("phone", spoken)]))
    add(record("en", "Send it to john.smith@example.com please.", [("email", "john.smith@example.com")]))
    for spoken in ("sarah dot wilson at outlook dot com", "d underscore evans at example dot co dot uk"):
        add(record("en", f"My email is {spoken}.", [("email", spoken)]))
    number = customer_number()
    add(record("en", f"My customer number is {number}.", [("customer_number", number)]))
    number = customer_number()
    spoken = en_spoken_digits(number)
    add(record("en", f"Customer number {spoken}.", [("customer_number", spoken)]))
    for cue, tail in (("My name is", "."), ("This is", " speaking."), ("Hi, I'm", ", I just moved in.")):
        name = f"{pick(EN_FIRST)} {pick(EN_LAST)}"
        add(record("en", f"{cue} {name}{tail}", [("person", name)]))
    add(record("en", "I'm calling on behalf of my mother, Grace Walker.", [("person", "Grace Walker")]))
    add(record("en", "The account holder is Daniel Wright.", [("person", "Daniel Wright")]))
    add(record("en", "That's W-R-I-G-H-T.", [("person", "W-R-I-G-H-T")]))
    street = pick(EN_STREETS)
    add(record("en", f"I live at 12 {street}.", [("address", f"12 {street}")]))
    full = "Mannerheimintie 5 A 7, 00100 Helsinki"
    add(record("en", f"My new address is {full}.", [("address", full)]))
    add(record("en", "We're moving to Hämeenkatu 20 in Tampere.", [("address", "Hämeenkatu 20")]))
    add(record("en", "The flat is at 221B Baker Street.", [("address", "221B Baker Street")]))

    # Harder cases, written after the first detector run and kept whatever it made of them.
    card = make_card("5")
    groups = [en_spoken_digits(card[index : index + 4], zero="oh") for index in range(0, 16, 4)]
    spoken = f"{groups[0]}, then {groups[1]}, {groups[2]}, and {groups[3]}"
    add(record("en", f"Right, {spoken}.", [("card", spoken)], context="Go ahead with the long card number."))
    add(record("en", "My number's 0 4 0, 1 2 3, 4 5 6 7.", [("phone", "0 4 0, 1 2 3, 4 5 6 7")]))
    add(record("en", "I'm ringing for my husband, Michael Evans, it's his contract.", [("person", "Michael Evans")]))
    add(record("en", "I paid with my card on 12/03/2024, it was 45.50.", []))
    add(record("en", "Your card ending in the old number was declined, so I'll pay by bank transfer.", []))
    add(record("en", "The reference on the giro is RF18 5390 0754 7034.", []))

    # A third batch, written blind (without running the detector first) and kept as it came out.
    add(
        record(
            "en", "Yeah it's Taylor, Emma Taylor.", [("person", "Taylor, Emma Taylor")], context="Can I take your name?"
        )
    )
    add(record("en", "Card number is 4111-1111-1111-1111.", [("card", "4111-1111-1111-1111")]))
    spoken = "twelve twenty eight"
    add(record("en", f"The expiry is {spoken}.", [("card_expiry", spoken)], context="And the card's expiry date?"))
    spoken = "emma underscore taylor at gmail dot com"
    add(record("en", f"My email's {spoken}.", [("email", spoken)]))
    number = "1 2 3 4 5 6 7 8"
    add(record("en", f"It's {number}.", [("customer_number", number)], context="What's your customer number?"))
    blind_near_misses = [
        "The standing charge is 24.5 cents a day and the unit rate 12.3 cents.",
        "I'll be home between 10 and 12 on the 5th.",
        "My meter number is 20 4567 8901.",
    ]
    out.extend(record("en", text) for text in blind_near_misses)

    near_misses = [
        "The bill is due on the 3rd of March 2024.",
        "It came to 49.90 euros for January.",
        "The meter reading is 045123.",
        "We used about 3,500 kWh last year.",
        "My order number is 58213.",
        "I'll call back at 2.30 pm.",
        "We've been customers since 2019.",
        "The invoice amount was 1 250 euros.",
        f"The invoice reference is {make_non_luhn(16, '4')}.",
        f"The number on the letter is {make_non_luhn(16, '5')}.",
        "Oh, I see, so the fixed price is twelve cents.",
        "This is about the invoice from March.",
        "I'm not sure which one of the two contracts it is.",
        "The fuse is 3 x 25 amps.",
        "It was twenty three degrees in the flat.",
        "The contract ends on 31.12.2025.",
        "I moved in on the first of June.",
    ]
    out.extend(record("en", text) for text in near_misses)
    return out


def main() -> None:
    for language, records in (("fi", finnish()), ("sv", swedish()), ("en", english())):
        path = HERE / f"{language}.jsonl"
        with path.open("w", encoding="utf-8") as file:
            for line in records:
                file.write(json.dumps(line, ensure_ascii=False) + "\n")
        print(f"{path.name}: {len(records)} utterances")


if __name__ == "__main__":
    main()
