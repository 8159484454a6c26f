"""A clip's tags ("opening", "price objection"), shown in the trainers' library, on a set's player and in exports.

Each is one line of visible text, as a tag on calls is (`calls.tags`): one holding a zero-width space, a bidi override
(U+202E), an escape, U+0001, a line break or a tab is refused as it is added, naming the field `tags`. A tag the clip
already has (exactly as stored) is taken as it is, so that a clip tagged so before the check can still be edited, and
the tag taken off.

A tag is one tag in any letter case and either Unicode form: a clip gets "Äiti" once, however often and in whatever
form it is typed (`calls.tags.tag_key`, Unicode's canonical caseless form), kept as first typed. The clip's tags as
stored, sent back as they are (an edit of its title alone: the API's, the edit page's), are kept exactly: a clip saved
before tags were one per key may hold "Äiti" and "äiti", and an edit of something else lost one of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from recordings_service.calls.tags import refuse_invisible_in_tag, tag_key
from recordings_service.errors import Invalid
from recordings_service.training.redacted_text import Redactor, redacted_within

MAX_TAGS = 20
MAX_TAG = 50


def checked_tags(typed: Sequence[str], *, kept: Sequence[str], redact: Redactor) -> tuple[str, ...]:
    """`typed` as a clip's tags: blank ones left out, each stripped and redacted by `redact` within `MAX_TAG`
    characters, one per key; those not among `kept` (the clip's tags as stored) refused unless one line of visible
    text. `typed` that is `kept`, tag for tag, is `kept`."""
    if [tag.strip() for tag in typed if tag.strip()] == list(kept):
        return tuple(kept)
    each_tag = f"at most {MAX_TAGS} tags of {MAX_TAG} characters"
    tags: list[str] = []
    for tag in typed:
        if not tag.strip():
            continue
        # As stored, exactly: a key folds spaces and case, and a tab or a line break would come in under it.
        if tag.strip() not in kept:
            refuse_invisible_in_tag(tag.strip(), field="tags")
        tags.append(redacted_within("tags", tag, MAX_TAG, each_tag, redact))
    one_each = one_per_key(tags)
    if len(one_each) > MAX_TAGS:
        raise Invalid("tags", each_tag, code="too_long")
    return one_each


def one_per_key(tags: Iterable[str]) -> tuple[str, ...]:
    """`tags` with one of each key (`tag_key`), the first: what a clip's tags are made whenever they are written."""
    first: dict[str, str] = {}
    for tag in tags:
        first.setdefault(tag_key(tag), tag)
    return tuple(first.values())
