"""Which calls' transcripts say the searched words, and the highlighted snippets that show where.

The words are looked up in the search index (`transcription.search_index`): stemmed per language on
PostgreSQL, FTS5 words on SQLite, and a word ending in `*` a prefix on both. The index holds each
transcript's redacted twin only.
A call matches when each word, and each "quoted phrase" (said within one segment), is said in some
segment of its transcript, not necessarily the same one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import reduce
from itertools import product
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Session

from recordings_service.calls.snippet_marks import WORD_TOKEN, marked_parts, said_together, tokens_of
from recordings_service.errors import Invalid
from recordings_service.models import Recording
from recordings_service.transcription.search_index import (
    CONFIG_BY_LANGUAGE,
    CONFIGS,
    DIGIT_SEPARATOR,
    INDEX_TABLE,
    MARK_END,
    MARK_START,
    config_for,
    digits_apart,
    index_rows,
)

MAX_QUERY_CHARS = 200
HITS_PER_CALL = 3
# Up to this many matching segments, search goes from the segments to their calls (see calls_saying).
RARE_SEGMENTS = 2000
# Segments the planner must expect before search walks the calls newest first instead.
COMMON_SEGMENTS = 20000
# Up to this many calls left by the filters, search checks each one's segments (see calls_saying)
# rather than walking all calls newest first past the ones the filters leave out.
FEW_CALLS = 1000
_HEADLINE_OPTIONS = f"StartSel={MARK_START}, StopSel={MARK_END}, MinWords=8, MaxWords=24, HighlightAll=false"
# A word or phrase typed with a star after its last token (`sopimu*`, `e-lask*`): that token is a prefix.
_PREFIX = re.compile(r"[^\W_]\*+\W*$")
# FTS5 takes its MATCH and snippet() arguments by table name.
_FTS_TABLE: ColumnElement[Any] = literal_column(INDEX_TABLE)


@dataclass(frozen=True)
class SegmentHit:
    """Where in the call the words were said; `parts` are (text, highlighted) pieces of the snippet."""

    segment: int
    start_s: float
    speaker: str | None
    parts: tuple[tuple[str, bool], ...]

    @property
    def text(self) -> str:
        return "".join(piece for piece, _ in self.parts)


def checked_words(query: str, *, field: str = "q") -> str:
    """The words of a search box, refused when too long or without a single word."""
    words = query.strip()
    if len(words) > MAX_QUERY_CHARS:
        raise Invalid(field, f"at most {MAX_QUERY_CHARS} characters", code="too_long")
    # A letter or a digit: what both databases index (the underscore separates words).
    if words and not WORD_TOKEN.search(words):
        raise Invalid(field, "enter at least one word", code="no_words")
    return words


def said_in_transcripts(session: Session, words: str, *, language: str | None = None) -> ColumnElement[bool]:
    """Recordings whose transcript says every one of `words` (checked by `checked_words`, not empty).

    The index holds each transcript's redacted twin only, so nothing said only in the original text matches.
    """
    return calls_saying(session, session.get_bind().dialect.name, words, language=language, scope=None)


def calls_saying(
    session: Session, dialect: str, words: str, *, language: str | None, scope: Select[Any] | None
) -> ColumnElement[bool]:
    """Calls whose segments contain the words, each in a segment of its own or not; `scope` is the filtered calls
    when filters narrow them."""
    if dialect != "postgresql":
        matched = [
            Recording.id.in_(select(index_rows.c.recording_id).where(_FTS_TABLE.op("MATCH")(term)))
            for term in fts_terms(words)
        ]
        return and_(true(), *matched) if matched else false()
    # A call stored with "auto" has its transcript in the language heard, indexed by that language's rules.
    configs = [config_for(language)] if language in CONFIG_BY_LANGUAGE else list(CONFIGS)
    terms = _said_each(session, list(_typed_terms(words)), configs)
    if not terms:
        return false()
    # Which plan is fast depends on how common the words are and how narrow the filters: a common
    # word is best found by walking the calls newest first (a page fills at once), a rare one from
    # its few segments, and a few filtered calls by checking their own segments. The planner knows
    # only frequent words well and would walk every call looking for a rare one (seconds at 100 000
    # calls); nor does it see that walking the calls past the ones an agent or queue filter leaves
    # out costs far more than checking those calls' segments. Its row estimates are right for
    # frequent words and for the filters, so it decides "common" and "few"; the GIN index lists the
    # segments of the rest, with plans made for these values and no table scan. Each word is said
    # in a segment of its own, so each is weighed apart: the calls of its rare words' segments
    # (those it has in common), then each other word checked in those calls or as the plan goes.
    calls = None
    if scope is not None:
        ids = scope.with_only_columns(Recording.id).order_by(None).limit(None)
        calls = ids.where(Recording.id == index_rows.c.recording_id).exists()
    candidates: set[str] | None = None
    checked = []
    estimates = [(_estimated_rows(session, select(index_rows.c.recording_id).where(said)), said) for said in terms]
    for estimate, said in sorted(estimates, key=lambda pair: pair[0]):
        found = _rare_calls(session, said, calls) if estimate <= COMMON_SEGMENTS else None
        if found is None:
            checked.append(exists().where(index_rows.c.recording_id == Recording.id, said))
        else:
            candidates = found if candidates is None else candidates & found
            if not candidates:
                return Recording.id.in_(candidates)
    if candidates is not None:
        return and_(Recording.id.in_(candidates), *checked)
    if scope is not None and _estimated_rows(session, ids) <= FEW_CALLS:
        few = list(session.scalars(ids.limit(2 * FEW_CALLS + 1)))
        if len(few) <= 2 * FEW_CALLS:
            return and_(Recording.id.in_(few), *checked)
    return and_(*checked)


def _rare_calls(session: Session, said: ColumnElement[bool], calls: ColumnElement[bool] | None) -> set[str] | None:
    """The calls of the segments saying a word, read from the GIN index; None when they are too many for that."""
    probe = select(index_rows.c.recording_id).where(said)
    # Only the segments of filtered calls count: filters often leave few of a word's segments.
    if calls is not None:
        probe = probe.where(calls)
    session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    session.execute(text("SET LOCAL enable_seqscan = off"))
    found = list(session.scalars(probe.limit(RARE_SEGMENTS + 1)))
    session.execute(text("SET LOCAL enable_seqscan = on"))
    return set(found) if len(found) <= RARE_SEGMENTS else None


def _said_each(session: Session, terms: Sequence[str], configs: Sequence[str]) -> list[ColumnElement[bool]]:
    """A segment condition per word or phrase searched for (one word: as `_said` says it).

    A term in which a language's configuration finds no word (a dash or dots typed apart) is left out of that
    language's query, as `websearch_to_tsquery` leaves it out of a query of several words. Stop words are words
    (`search_index.create_search_configurations`). A language in which none of them is a word matches nothing.
    """
    terms = list(dict.fromkeys(terms))
    if len(terms) == 1:
        return [_said(terms[0], configs)]
    pairs = list(product(configs, terms))
    counts = session.execute(
        select(*(func.numnode(_tsquery(_regconfig(config), term)) for config, term in pairs))
    ).one()
    lexemes = {pair for pair, count in zip(pairs, counts, strict=True) if count}
    searched = [config for config in configs if any((config, term) in lexemes for term in terms)]
    return [
        or_(
            *(
                _said(term, [config]) if (config, term) in lexemes else index_rows.c.config == _regconfig(config)
                for config in searched
            )
        )
        for term in terms
        if any((config, term) in lexemes for config in searched)
    ]


def _said(words: str, configs: Iterable[str]) -> ColumnElement[bool]:
    # Each segment was stemmed by its own language's rules, so the words are stemmed by each
    # configuration in turn and compared with that configuration's segments only (constant queries,
    # parsed once per statement rather than once per row).
    return or_(
        *(
            and_(
                index_rows.c.config == _regconfig(config),
                index_rows.c.document.bool_op("@@")(_tsquery(_regconfig(config), words)),
            )
            for config in configs
        )
    )


def _tsquery(config: ColumnElement[Any], term: str) -> ColumnElement[Any]:
    """One term as typed (`_typed_terms`) as a query in `config`, its digits apart as indexed (`DIGIT_SEPARATOR`): one
    ending in `*` a prefix, anything else quoted for `websearch_to_tsquery`, so that its operators are read as words,
    as on SQLite ("or" is not OR, a leading "-" not NOT). Quoted, a word is still parsed and stemmed by the
    configuration ("e-mail" stays one token); `websearch_to_tsquery` has no prefixes (it took `sopimu*` for `sopimu`).
    """
    typed = DIGIT_SEPARATOR.sub(r"\1 ", term)
    if not _PREFIX.search(typed):
        return func.websearch_to_tsquery(config, f'"{typed}"')
    # Among the words as said (the document's `simple` part, weight B), as SQLite has them: the tokens before the
    # last said together, then a word beginning with the last one (letters and digits only: no to_tsquery syntax). A
    # stemmed prefix missed words whose stem is shorter than it: `sopimus*` missed "sopimusta" (stem "sopimu").
    *head, last = tokens_of(typed)
    return func.to_tsquery(_SIMPLE, " <-> ".join([*(f"'{token}':B" for token in head), f"'{last}':*B"]))


_SIMPLE = literal_column("'simple'::regconfig", REGCONFIG)


def _any_of(config: ColumnElement[Any], terms: Sequence[str]) -> ColumnElement[Any]:
    """A query in `config` matching any of the terms."""
    queries = [_tsquery(config, term) for term in terms]
    return reduce(lambda either, query: either.op("||")(query), queries[1:], queries[0])


def _estimated_rows(session: Session, statement: Select[Any]) -> float:
    compiled = statement.compile(session.get_bind())
    plan = session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    return float(plan[0]["Plan"]["Plan Rows"])  # type: ignore[index]


def _regconfig(config: str) -> ColumnElement[Any]:
    # Inline, not a bound parameter: one of our own constants, and a plan cached for a statement
    # must still know which configuration (and so which index entries) it is about.
    if config not in CONFIGS:
        raise ValueError(f"unknown text search configuration {config!r}")
    return literal_column(f"'{config}'::regconfig", REGCONFIG)


def fts_terms(words: str) -> list[str]:
    """The search box's words as FTS5 queries, one a word or "quoted phrase"; word* is a prefix.

    Each term is quoted, so FTS5 operators and punctuation typed by a user are taken as plain words. A word of several
    tokens (`it's`, `49,90`, `e-lasku`) is a phrase of them, as PostgreSQL reads it: each token on its own, anywhere
    in the call, found calls saying "it" and "Bob's", or "49 minutes" and "90 days". A word with no token (`_`, which
    unicode61 separates words by) is left out, as PostgreSQL leaves it out: FTS5 matched nothing.
    """
    terms = []
    for typed in _typed_terms(words):
        tokens = WORD_TOKEN.findall(typed)
        if tokens:
            star = _PREFIX.search(typed) is not None
            terms.append('"' + " ".join(tokens) + '"' + (" *" if star else ""))
    return terms


def _typed_terms(words: str) -> Iterator[str]:
    """The search box's terms as typed, each a word or a quoted phrase; a quote left open quotes nothing."""
    parts = re.split('["“”„]', words)  # typographic quotes too, as Word and the Finnish hint write them
    for index, part in enumerate(parts):
        # Odd parts are inside quotes; what follows a quote left open is words.
        if index % 2 == 1 and index < len(parts) - 1:
            yield part
        else:
            yield from part.split()


def snippet_hits(session: Session, dialect: str, words: str, ids: Sequence[str]) -> dict[str, list[SegmentHit]]:
    """The first few segments of each call on the page saying any of the words, highlighted; those saying more of
    them are chosen first, and shown in the call's order."""
    if dialect == "postgresql":
        terms = list(dict.fromkeys(_typed_terms(words)))
        order: list[Any] = [index_rows.c.segment]
        if len(terms) > 1:
            said = [cast(index_rows.c.document.bool_op("@@")(_each_segments_query([term])), Integer) for term in terms]
            order.insert(0, sum(said[1:], said[0]).desc())
        numbered = (
            select(
                index_rows.c.recording_id,
                index_rows.c.segment,
                index_rows.c.start_s,
                index_rows.c.speaker,
                index_rows.c.config,
                index_rows.c.text,
                func.row_number().over(partition_by=index_rows.c.recording_id, order_by=order).label("rank"),
            )
            .where(index_rows.c.recording_id.in_(ids), index_rows.c.document.bool_op("@@")(_each_segments_query(terms)))
            .subquery()
        )
        # Highlighted only for the segments shown; prefixes alone in the words as said, as they are matched (stemmed,
        # the passage's "sopimusta" is "sopimu", which `sopimus*` does not begin).
        tsquery = _any_of(numbered.c.config, terms)
        parsed_by = _SIMPLE if all(_PREFIX.search(term) for term in terms) else numbered.c.config
        # Each word of a phrase is marked wherever said: only those said together stand, when all terms are phrases
        # (a term with no token, `-` or `_`, is left out of the search).
        phrases = [term for term in terms if WORD_TOKEN.search(term)]
        if any(len(WORD_TOKEN.findall(term)) < 2 for term in phrases):
            phrases = []
        rows: list[Any] = list(
            session.execute(
                select(
                    numbered.c.recording_id,
                    numbered.c.segment,
                    numbered.c.start_s,
                    numbered.c.speaker,
                    func.ts_headline(parsed_by, digits_apart(numbered.c.text), tsquery, _HEADLINE_OPTIONS),
                )
                .where(numbered.c.rank <= HITS_PER_CALL)
                .order_by(numbered.c.recording_id, numbered.c.segment)
            )
        )
    else:
        rows = _sqlite_snippets(session, fts_terms(words), ids)
        phrases = []
    found: dict[str, list[SegmentHit]] = {}
    for recording_id, number, start_s, speaker, snippet in rows:
        calls_hits = found.setdefault(recording_id, [])
        if len(calls_hits) < HITS_PER_CALL:
            parts = marked_parts(snippet)
            if phrases:
                parts = said_together(parts, phrases)
            calls_hits.append(SegmentHit(segment=number, start_s=float(start_s), speaker=speaker, parts=parts))
    return found


def _sqlite_snippets(session: Session, terms: Sequence[str], ids: Sequence[str]) -> list[Any]:
    """The segments of the calls saying any of the FTS5 `terms`, those of a call saying more of them first, up to
    `HITS_PER_CALL` of each call in the call's order."""
    terms = list(dict.fromkeys(terms))
    said: list[ColumnElement[Any]] = [
        cast(
            literal_column("rowid").in_(
                select(literal_column("rowid")).select_from(index_rows).where(_FTS_TABLE.op("MATCH")(term))
            ),
            Integer,
        )
        for term in terms
        if len(terms) > 1
    ]
    rows = session.execute(
        select(
            index_rows.c.recording_id,
            index_rows.c.segment,
            index_rows.c.start_s,
            index_rows.c.speaker,
            func.snippet(_FTS_TABLE, 0, MARK_START, MARK_END, "…", 24),
            sum(said[1:], said[0]) if said else literal_column("1"),
        )
        .where(_FTS_TABLE.op("MATCH")(" OR ".join(terms)), index_rows.c.recording_id.in_(ids))
        .order_by(index_rows.c.recording_id, index_rows.c.segment)
    )
    chosen: dict[str, list[Any]] = {}
    for row in rows:
        chosen.setdefault(row[0], []).append(row)
    return [
        row[:5]
        for calls_rows in chosen.values()
        for row in sorted(sorted(calls_rows, key=lambda row: -row[5])[:HITS_PER_CALL], key=lambda row: row[1])
    ]


def _each_segments_query(terms: Sequence[str]) -> ColumnElement[Any]:
    """Any of the terms as a query in each segment's own configuration, for the page's few calls.

    Each configuration's query is a constant (parsed once, not once per row), and the choice by the
    segment's column keeps the planner from going to the GIN index: its lists for a common word are
    long, and a page's calls have a few hundred segments to read by recording.
    """
    return case(
        *((index_rows.c.config == _regconfig(config), _any_of(_regconfig(config), terms)) for config in CONFIGS),
        else_=_any_of(index_rows.c.config, terms),
    )
