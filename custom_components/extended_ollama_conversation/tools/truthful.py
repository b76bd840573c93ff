"""The answer never claims what did not happen, and never reads out an internal error.

After any tool call of the turn, the model's final words are checked before anyone
hears them. Words that are an error text meant for the model (a tool name, "not a
valid tool", JSON), that claim success when a call was refused, failed or left its
entity where it was, or that give the entity acted on the opposite of its state, are
replaced by an answer built from the results themselves.
"""

from __future__ import annotations

from collections.abc import Collection
import re

from .gate import COULD_NOT, CallRecord
from .text_calls import has_json_object

_CLAIM = re.compile(
    r"\b(done|has been|have been|is now|are now|i'?ve|i have|successfully|turned|"
    r"switched|locked|unlocked|opened|closed|set|started|stopped|disarmed|armed|"
    r"activated|changed|adjusted|ok|okay|sure|all set|"
    r"(is|are) (now )?(on|off|open|closed|locked|unlocked|armed|disarmed))\b",
    re.IGNORECASE,
)
# A one-word answer ("Off.") claims as much as a sentence does.
_BARE_STATE = re.compile(
    r"^\W*(on|off|open|closed|locked|unlocked|armed|disarmed)\W*$", re.IGNORECASE
)
_DENIAL = re.compile(
    r"\b(not|couldn'?t|cannot|can'?t|unable|failed|sorry|still|isn'?t|wasn'?t|"
    r"didn'?t|won'?t|no device|need(s)? (a|your) )|n't\b",
    re.IGNORECASE,
)
_INTERNAL = re.compile(
    r"\w+__\w+|\bHass[A-Z]\w*|not a valid tool|\btool\b|\berror[_ ]text\b|</?tools?>|"
    r"</?tool_call>|"
    r"\b(InvalidArguments|UnknownTool|RepeatedCall|NoMatch|MatchFailed\w*)\b",
)


_OPPOSITE = {
    "locked": "unlocked",
    "unlocked": "locked",
    "open": "closed",
    "closed": "open",
    "on": "off",
    "off": "on",
}
_SYNONYMS = {"opened": "open"}
_STATE_WORD = re.compile(r"\b(locked|unlocked|open|opened|closed|on|off)\b")


def unsettled(records: list[CallRecord]) -> list[CallRecord]:
    """Failed calls that no later call of the turn made good."""
    open_failures: list[CallRecord] = []
    for index, record in enumerate(records):
        if record.ok:
            continue
        later = [r for r in records[index + 1 :] if r.ok and r.effects]
        targets = {e.entity_id for e in record.effects}
        fixed = any(
            not targets or targets <= {e.entity_id for e in r.effects} for r in later
        )
        if not fixed:
            open_failures.append(record)
    return open_failures


def contradicts_states(text: str, records: list[CallRecord]) -> bool:
    """Whether the words give the one entity acted on the opposite of its state."""
    entities = [entity for record in records for entity in record.entities]
    if len(entities) != 1:
        return False
    said = {_SYNONYMS.get(word, word) for word in _STATE_WORD.findall(text.lower())}
    state = entities[0].state
    return state not in said and _OPPOSITE.get(state) in said


def is_internal(text: str, tool_names: Collection[str]) -> bool:
    """Whether the words are meant for a program, not a person."""
    return (
        bool(_INTERNAL.search(text))
        or has_json_object(text)
        or any(name in text for name in tool_names)
    )


def claims_success(text: str) -> bool:
    """Whether the words say something was done (and do not say it was not)."""
    claimed = _CLAIM.search(text) or _BARE_STATE.match(text)
    return bool(claimed) and not _DENIAL.search(text)


def checked_answer(
    text: str, records: list[CallRecord], tool_names: Collection[str]
) -> str:
    """The model's words, or the results' own answer when the words are untrue."""
    if not text.strip() or is_internal(text, tool_names):
        return summary(records)
    if unsettled(records) and claims_success(text):
        return summary(records)
    if contradicts_states(text, records):
        return summary(records)
    return text


def summary(records: list[CallRecord]) -> str:
    """One sentence per call that changed or failed to change the home."""
    failures = unsettled(records)
    sentences = [r.speech for r in records if r.ok or r in failures]
    said = [s for s in dict.fromkeys(sentences) if s]
    return " ".join(said) or COULD_NOT
