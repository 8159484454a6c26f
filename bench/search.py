"""Search latency on PostgreSQL at 100 000 transcripts (and at a million).

    .venv/bin/python -m bench.search [--calls 100000] [--runs 40] [--database-url postgresql+psycopg://...]
        [--keep | --schema NAME] [--explain]

Creates a fresh schema, migrates it, bulk-loads synthetic calls (COPY) whose multi-segment
transcripts are Finnish, Swedish or English call-centre talk, then times `search.search_calls` (the
service the UI and API call: match, page, snippets, scores, audit record) for a mix of queries: a
common word, a rare word, a word with filters, the second page of a common word, filters alone.
Prints p50/p95 per kind and overall (goal for every kind: p95 < 100 ms at 100 000 calls, < 250 ms
beyond) and drops the schema, unless `--keep`: `--schema NAME` times a kept one again, migrated to
the head first, without seeding. `--explain` then prints EXPLAIN (ANALYZE, BUFFERS) of the SELECTs
behind the slowest kind.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session

from bench.stats import percentile
from recordings_service import schema
from recordings_service.audit import Actor
from recordings_service.calls.search import SearchFilters, search_calls
from recordings_service.db import make_engine
from recordings_service.models.account import Role
from recordings_service.models.recording import name_key
from recordings_service.transcription.search_index import config_for

DEFAULT_URL = os.environ.get("CALLVAULT_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ACTOR = Actor(id=None, name="bench", role=Role.QA_SUPERVISOR)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
QUEUES = ("sales", "support", "billing", "retention", "technical")
LANGUAGES = ("fi", "sv", "en")
LANGUAGE_WEIGHTS = (0.6, 0.15, 0.25)
RARE_SHARE = 0.0005  # of calls that mention the rare word

# Call-centre lines with slots; each segment is one or two of them.
LINES = {
    "fi": [
        "Hyvää päivää, asiakaspalvelu, {name} puhelimessa.",
        "Soitan laskusta, joka tuli viime viikolla.",
        "Laskun eräpäivä on {weekday}, summa on {amount} euroa.",
        "Liittymäni ei toimi kunnolla {place}.",
        "Voisitteko tarkistaa sopimuksen tiedot?",
        "Sopimus on voimassa toistaiseksi.",
        "Hinta nousee ensi kuussa {amount} euroon.",
        "Haluaisin irtisanoa sopimuksen {weekday}.",
        "Maksu on kirjattu tilillenne {weekday}.",
        "Asiakasnumeroni on {number}.",
        "Hetkinen, tarkistan tilanteen järjestelmästä.",
        "Toimitus saapuu {place} noin viikon kuluttua.",
        "Saisinko vielä sähköpostiosoitteen vahvistusta varten?",
        "Kiitos soitostasi ja hyvää päivänjatkoa!",
        "Kiitos, tämä auttoi paljon.",
        "Onko teillä tarjolla halvempaa liittymää?",
        "Modeemi pitää käynnistää uudelleen.",
    ],
    "sv": [
        "God dag, kundtjänst, {name} här.",
        "Jag ringer om fakturan som kom förra veckan.",
        "Fakturan förfaller på {weekday}, beloppet är {amount} euro.",
        "Mitt abonnemang fungerar inte {place}.",
        "Kan ni kontrollera avtalet?",
        "Avtalet gäller tills vidare.",
        "Priset höjs nästa månad till {amount} euro.",
        "Jag vill säga upp avtalet på {weekday}.",
        "Betalningen är registrerad på {weekday}.",
        "Mitt kundnummer är {number}.",
        "Ett ögonblick, jag kontrollerar i systemet.",
        "Leveransen kommer {place} om ungefär en vecka.",
        "Tack för samtalet och ha en trevlig dag!",
        "Tack, det hjälpte mycket.",
    ],
    "en": [
        "Good morning, customer service, this is {name}.",
        "I'm calling about the invoice I received last week.",
        "The invoice is due on {weekday}, the amount is {amount} euros.",
        "My subscription is not working properly {place}.",
        "Could you check the details of my contract?",
        "The contract is valid until further notice.",
        "The price goes up next month to {amount} euros.",
        "I would like to cancel the contract on {weekday}.",
        "The payment was registered on {weekday}.",
        "My customer number is {number}.",
        "One moment, I'll check that in the system.",
        "The delivery arrives {place} in about a week.",
        "Thank you for calling and have a nice day!",
        "Thanks, that helped a lot.",
    ],
}
RARE = {
    "fi": "Kyseessä on vesivahinko keittiössä.",
    "sv": "Det gäller en vattenskada i köket.",
    "en": "It is about water damage in the kitchen.",
}
SLOTS: dict[str, dict[str, list[str]]] = {
    "fi": {"name": ["Anna", "Mikko", "Laura", "Jukka"], "weekday": ["maanantaina", "tiistaina", "perjantaina"],
           "place": ["kotona", "mökillä", "toimistolla"]},
    "sv": {"name": ["Anna", "Erik", "Sara"], "weekday": ["måndag", "onsdag", "fredag"],
           "place": ["hemma", "på stugan", "på kontoret"]},
    "en": {"name": ["Anna", "James", "Sarah"], "weekday": ["Monday", "Wednesday", "Friday"],
           "place": ["at home", "at the cottage", "at the office"]},
}  # fmt: skip


def segment_text(rng: random.Random, language: str) -> str:
    lines = rng.sample(LINES[language], rng.choice((1, 1, 2)))
    slots = SLOTS[language]
    return " ".join(
        line.format(
            name=rng.choice(slots["name"]),
            weekday=rng.choice(slots["weekday"]),
            place=rng.choice(slots["place"]),
            amount=rng.randint(9, 120),
            number=rng.randint(100000, 999999),
        )
        for line in lines
    )


def synthetic_calls(count: int, seed: int = 7) -> Iterator[tuple[tuple[Any, ...], list[dict[str, Any]], str]]:
    """(recording row, segments, language) per call; the same calls on every pass (one COPY per table)."""
    rng = random.Random(seed)
    customers = customer_count(count)
    for number in range(count):
        language = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
        recording_id = f"R{number:025d}"
        started = NOW - timedelta(seconds=rng.randint(0, 365 * 86400))
        segments = []
        at = 0.0
        for index in range(rng.randint(8, 24)):
            said = segment_text(rng, language)
            if index == 3 and rng.random() < RARE_SHARE:
                said = RARE[language]
            length = 2.0 + len(said) / 15
            segments.append({"speaker": ("agent", "customer")[index % 2], "start": round(at, 2),
                             "end": round(at + length, 2), "text": said})  # fmt: skip
            at += length + rng.uniform(0.2, 1.5)
        # Drawn in the order the row once drew them, so that a seed makes the same calls as before.
        direction = rng.choice(("inbound", "outbound"))
        queue = rng.choice(QUEUES)
        agent = f"agent-{rng.randint(1, 200)}"
        row = (
            recording_id, "bench", recording_id, started, round(at, 2), direction, queue, agent, language, 2, "left",
            "wav", "pcm_mulaw", 8000, int(at * 16000), "0" * 64, f"originals/bench/{recording_id}", b"k", 1, True,
            None, "transcribed", '["verification"]', False, False, started, started, customer_id(number % customers),
            name_key(queue), name_key(agent),
        )  # fmt: skip
        yield row, segments, language


RECORDING_COLUMNS = (
    "id, source, external_call_id, started_at, duration_s, direction, queue, agent_ref, language, channels,"
    " agent_channel, container, codec, sample_rate, size_bytes, sha256, storage_key, wrapped_data_key,"
    " master_key_id, notice_given, agreement_made, status, purposes, legal_hold, restricted, created_at, updated_at,"
    " customer_id, queue_key, agent_key"
)
# Five calls a customer, and one customer in a hundred had their calls erased (as a month of requests leaves it):
# the erasure keeps none of them here, but every search a supervisor makes asks whether one did (`visible_to`).
CALLS_PER_CUSTOMER = 5
ERASED_EVERY = 100
CUSTOMERS_AND_ERASURES = """
INSERT INTO customers (id, customer_ref, objects_to_marketing, objects_to_research, updated_at)
SELECT 'C' || lpad(n::text, 25, '0'), 'cust-' || n, false, false, now() FROM generate_series(0, %(customers)s - 1) n;
INSERT INTO subject_requests
    (id, customer_id, kind, received_at, due_at, completed_at, chargeable, outcome, created_at, package_attempts)
SELECT 'S' || lpad(n::text, 25, '0'), 'C' || lpad(n::text, 25, '0'), 'erasure', now(), now(), now(), false, '{}',
    now(), 0
FROM generate_series(0, %(customers)s - 1, %(every)s) n;
"""


def customer_count(calls: int) -> int:
    return max(1, calls // CALLS_PER_CUSTOMER)


def customer_id(number: int) -> str:
    return f"C{number:025d}"


def seed(engine: Engine, count: int) -> float:
    """Bulk-load `count` transcribed calls; the GIN index is built after the load, as for any bulk import."""
    started = time.perf_counter()
    connection = engine.raw_connection()
    try:
        driver: Any = connection.driver_connection
        with driver.cursor() as cursor:
            cursor.execute("DROP INDEX ix_search_segments_document")
            for statement in filter(str.strip, CUSTOMERS_AND_ERASURES.split(";")):
                cursor.execute(statement, {"customers": customer_count(count), "every": ERASED_EVERY})
            with cursor.copy(f"COPY recordings ({RECORDING_COLUMNS}) FROM STDIN") as copy:
                for row, _, _ in synthetic_calls(count):
                    copy.write_row(row)
            with cursor.copy(
                "COPY transcripts (id, recording_id, engine, model, language, segments, processing_s,"
                " created_at, updated_at) FROM STDIN"
            ) as copy:
                for row, segments, language in synthetic_calls(count):
                    transcript_row = ("T" + row[0][1:], row[0], "bench", "bench", language, json.dumps(segments))
                    copy.write_row((*transcript_row, 1.0, row[3], row[3]))
            print(f"  recordings and transcripts copied: {time.perf_counter() - started:.1f} s", flush=True)
            indexed = 0
            with cursor.copy(
                "COPY search_segments (recording_id, segment, start_s, speaker, text, config) FROM STDIN"
            ) as copy:
                for row, segments, language in synthetic_calls(count):
                    config = config_for(language)
                    for number, segment in enumerate(segments):
                        copy.write_row((row[0], number, segment["start"], segment["speaker"], segment["text"], config))
                    indexed += len(segments)
            print(f"  {indexed} segments indexed: {time.perf_counter() - started:.1f} s", flush=True)
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute("CREATE INDEX ix_search_segments_document ON search_segments USING gin (document)")
        driver.commit()
        driver.autocommit = True
        with driver.cursor() as cursor:
            # The loaded tables only: a bare VACUUM would go through every schema in the database.
            cursor.execute("VACUUM ANALYZE recordings, transcripts, search_segments, customers, subject_requests")
        # The pool hands this connection to the timed searches next: in autocommit, each of their statements
        # would be a transaction of its own (at a million calls, p95 2.8 s instead of 60 ms for one kind).
        driver.autocommit = False
    finally:
        connection.close()
    return time.perf_counter() - started


def timed(engine: Engine, runs: int, search: Callable[[Session], object]) -> list[float]:
    samples = []
    with Session(engine) as session:
        for _ in range(runs + 3):  # the first few warm caches and let psycopg prepare the statements
            begun = time.perf_counter()
            search(session)
            samples.append((time.perf_counter() - begun) * 1000)
            session.rollback()
    return samples[3:]


def query_kinds() -> dict[str, Callable[[Session], object]]:
    """The timed searches by kind (the second page is timed apart: only its own search counts)."""
    day = timedelta(days=1)
    month_from, month_to = NOW - 60 * day, NOW - 30 * day
    return {
        "common word (kiitos)": lambda s: search_calls(s, actor=ACTOR, query="kiitos", filters=SearchFilters()),
        "common word (invoice)": lambda s: search_calls(s, actor=ACTOR, query="invoice", filters=SearchFilters()),
        "rare word (vesivahinko)": lambda s: search_calls(s, actor=ACTOR, query="vesivahinko", filters=SearchFilters()),
        # A stop word of its language, searched since migration 0044 (found nothing before), alone and with a word.
        "stop word (ei)": lambda s: search_calls(s, actor=ACTOR, query="ei", filters=SearchFilters()),
        "stop word + word (ei toimi)": lambda s: search_calls(
            s, actor=ACTOR, query="ei toimi", filters=SearchFilters()
        ),
        "prefix (sopimu*)": lambda s: search_calls(s, actor=ACTOR, query="sopimu*", filters=SearchFilters()),
        "inflected rare (vattenskadan)": lambda s: search_calls(
            s, actor=ACTOR, query="vattenskadan", filters=SearchFilters()
        ),
        "two words + queue, language, month": lambda s: search_calls(
            s,
            actor=ACTOR,
            query="sopimuksen hinta",
            filters=SearchFilters(started_from=month_from, started_to=month_to, queue="billing", language="fi"),
        ),
        "word + agent": lambda s: search_calls(
            s, actor=ACTOR, query="laskun", filters=SearchFilters(agent_ref="agent-17")
        ),
        "filters only (queue, month)": lambda s: search_calls(
            s, actor=ACTOR, filters=SearchFilters(started_from=month_from, started_to=month_to, queue="sales")
        ),
    }


def second_page(session: Session, words: str) -> float:
    """Milliseconds for the second page of a search, the first one untimed."""
    first = search_calls(session, actor=ACTOR, query=words, filters=SearchFilters())
    begun = time.perf_counter()
    search_calls(session, actor=ACTOR, query=words, filters=SearchFilters(), cursor=first.next_cursor)
    return (time.perf_counter() - begun) * 1000


def explained(engine: Engine, search: Callable[[Session], object]) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of each SELECT one search runs, with the statement; replayed in order in a
    transaction that is rolled back, SET LOCAL included, since search changes planner settings as it goes."""
    statements: list[tuple[str, Any]] = []

    def remember(_conn: Connection, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        with Session(engine) as session:
            search(session)
            session.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    plans = []
    with engine.connect() as connection:
        for statement, parameters in statements:
            verb = statement.lstrip().split(maxsplit=1)[0].upper()
            if verb == "SET":
                connection.exec_driver_sql(statement, parameters)
            elif verb == "SELECT":  # not the audit record's INSERT, nor search's own EXPLAINs of its estimates
                rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plans.append(f"{statement}\n{parameters}\n" + "\n".join(row[0] for row in rows))
        connection.rollback()
    return plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--keep", action="store_true", help="keep the schema (to EXPLAIN queries against it)")
    kept.add_argument("--schema", help="time a schema kept by --keep again (migrated to the head), without seeding")
    parser.add_argument("--explain", action="store_true", help="print the plans of the slowest kind's statements")
    args = parser.parse_args()

    schema_name = args.schema or "bench_search_" + secrets.token_hex(4)
    admin = make_engine(args.database_url, isolation_level="AUTOCOMMIT")
    if not args.schema:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema_name}"))
    separator = "&" if "?" in args.database_url else "?"
    engine = make_engine(f"{args.database_url}{separator}options=-csearch_path%3D{schema_name}")
    try:
        schema.upgrade(engine)
        if args.schema:
            with engine.connect() as connection:
                calls = int(connection.scalar(text("SELECT count(*) FROM recordings")) or 0)
            print(f"{calls} calls in schema {schema_name}", flush=True)
        else:
            calls = args.calls
            print(f"seeding {calls} calls into schema {schema_name}", flush=True)
            print(f"seeded in {seed(engine, calls):.1f} s", flush=True)
        goal_ms = 100 if calls <= 100_000 else 250
        p95s: dict[str, float] = {}
        everything: list[float] = []
        print(f"\n{'query':40} {'p50 ms':>8} {'p95 ms':>8}   goal p95 < {goal_ms} ms")
        kinds = query_kinds()
        for name, search in kinds.items():
            samples = timed(engine, args.runs, search)
            everything += samples
            p95s[name] = percentile(samples, 0.95)
            print(f"{name:40} {statistics.median(samples):8.1f} {p95s[name]:8.1f}   {_verdict(p95s[name], goal_ms)}")
        with Session(engine) as session:
            pages = []
            for _ in range(args.runs):
                pages.append(second_page(session, "kiitos"))
                session.rollback()
        everything += pages
        p95s["second page (kiitos)"] = percentile(pages, 0.95)
        print(
            f"{'second page (kiitos)':40} {statistics.median(pages):8.1f} {p95s['second page (kiitos)']:8.1f}"
            f"   {_verdict(p95s['second page (kiitos)'], goal_ms)}"
        )
        overall = f"{statistics.median(everything):8.1f} {percentile(everything, 0.95):8.1f}"
        print(f"{'all':40} {overall}   every kind: {_verdict(max(p95s.values()), goal_ms)}")
        if args.explain:
            slowest = max(kinds, key=p95s.__getitem__)
            print(f"\nplans of {slowest!r} (p95 {p95s[slowest]:.1f} ms):")
            for plan in explained(engine, kinds[slowest]):
                print(f"\n{plan}")
    finally:
        engine.dispose()
        if not (args.keep or args.schema):
            with admin.connect() as connection:
                connection.execute(text(f"DROP SCHEMA {schema_name} CASCADE"))
        admin.dispose()


def _verdict(p95: float, goal_ms: int) -> str:
    return "met" if p95 < goal_ms else "NOT met"


if __name__ == "__main__":
    main()
