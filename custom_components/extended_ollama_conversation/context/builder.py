"""The home's description for one turn: the stable directory and the changing tail.

The directory comes from the index, fitted once per budget. The tail names the
request's devices that the directory left out and gives the states of the most
relevant devices, in a fixed order, trimmed to the budget from the least relevant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import re

from homeassistant.util import dt as dt_util

from ..tools.questions import is_question
from .devices import Device
from .index import DeviceIndex
from .ranking import MIN_EXTRA_SCORE, NAMED, RECENT_POINTS, SEMANTIC_WEIGHT, relevance
from .rendering import render_current

_RECENT = timedelta(minutes=10)
# A state line is only given for the most relevant devices; the rest are looked up.
DEFAULT_STATE_LINES = 25
# With a device named, others get a state line only with this share of its points.
NAMED_SHARE = 1 / 3
# ... except the few that changed last, whatever their points.
NAMED_KEEPS_RECENT = 3


@dataclass(frozen=True, slots=True)
class HomeContext:
    """The rendered context and what it contains."""

    directory: str
    current: str
    listed: frozenset[str]
    omitted: int

    @property
    def text(self) -> str:
        """The whole context, stable part first."""
        return f"{self.directory}\n{self.current}" if self.current else self.directory


def build_context(
    index: DeviceIndex,
    request: str,
    *,
    budget: int,
    chars_per_token: float,
    satellite_area: str | None = None,
    now: datetime | None = None,
    state_lines: int = DEFAULT_STATE_LINES,
    similarities: Mapping[str, float] | None = None,
) -> HomeContext:
    """Describe the home in about `budget` tokens, the request's devices always included."""
    devices = index.devices()
    position = index.lookup().position
    states = index.hass.states
    char_budget = int(budget * chars_per_token)
    scores = relevance(index, request, satellite_area)
    for entity_id, similarity in (similarities or {}).items():
        if entity_id in position:
            scores[entity_id] = scores.get(entity_id, 0) + round(
                SEMANTIC_WEIGHT * similarity
            )
    # What changed lately has its state said; it is no reason to list a name.
    changed = index.recently_changed((now or dt_util.utcnow()) - _RECENT)
    state_scores = dict(scores)
    for entity_id in changed:
        if entity_id in position:
            state_scores[entity_id] = state_scores.get(entity_id, 0) + RECENT_POINTS

    def ranking(points: dict[str, int]) -> list[Device]:
        return sorted(
            (
                devices[position[entity_id]]
                for entity_id, score in points.items()
                if score
            ),
            key=lambda d: (-points[d.entity_id], position[d.entity_id]),
        )

    ranked = ranking(scores)
    named = [d for d in ranked if scores[d.entity_id] >= NAMED]
    names_nothing = not any(scores.values())
    latest = [e for e in changed if e in position][-NAMED_KEEPS_RECENT:]
    # A request about nothing in the home ("what is 12 times 12?") gets only the
    # latest changes: more states cost reading time and invite calls it does not need.
    candidates = (
        dict.fromkeys(latest, RECENT_POINTS)
        if names_nothing
        else _close_to_named(state_scores, named, scores, latest)
    )
    stated = _ensure(ranking(candidates)[:state_lines], named)
    # Three quarters for the directory, the rest for the changing part.
    directory, listed = index.directory(char_budget * 3 // 4)
    extras = _ensure(
        [
            d
            for d in ranked
            if d.entity_id not in listed and scores[d.entity_id] >= MIN_EXTRA_SCORE
        ][:state_lines],
        (d for d in named if d.entity_id not in listed),
    )
    # Chosen by relevance, said in the fixed order, what changed lately last: a change
    # moves no other line, and Ollama's prompt cache keeps all before it.
    last = {entity_id: order for order, entity_id in enumerate(changed)}
    stated.sort(key=lambda d: (last.get(d.entity_id, -1), position[d.entity_id]))
    extras.sort(key=lambda d: position[d.entity_id])
    hint = GENERAL_QUESTION_HINT if names_nothing and _general(request) else ""
    current = render_current(extras, stated, states, hint)
    # Drop the least relevant lines (never a named device's) to fit the budget.
    keep = {d.entity_id for d in named}
    while len(directory) + len(current) > char_budget and (
        removable := [d for d in (*extras, *stated) if d.entity_id not in keep]
    ):
        # Of the least relevant, the last: the lines before it stay as they were.
        victim = min(
            reversed(removable), key=lambda d: state_scores.get(d.entity_id, 0)
        )
        extras = [d for d in extras if d is not victim]
        stated = [d for d in stated if d is not victim]
        current = render_current(extras, stated, states, hint)
    shown = listed | {d.entity_id for d in extras}
    return HomeContext(directory, current, frozenset(shown), len(devices) - len(shown))


# Said after a question that names nothing in the home ("what is 12 times 12?"): a
# small model told to write only calls otherwise "answers" it with one.
GENERAL_QUESTION_HINT = "No device is named: answer in words, without a call."
# Words that point back at a device of an earlier turn ("is it on now?").
_BACK_REFERENCE = re.compile(
    r"\b(it|its|that|this|they|them|those|these|there)\b", re.I
)


def _general(request: str) -> bool:
    """A question about something other than the home, as far as words can tell."""
    return is_question(request, "en") and not _BACK_REFERENCE.search(request)


def _close_to_named(
    state_scores: dict[str, int],
    named: list[Device],
    scores: Mapping[str, int],
    changed: Iterable[str],
) -> dict[str, int]:
    """When the request names a device, only the devices nearly as relevant as it.

    "Is the kitchen socket on?" needs that socket's state, not every socket's: each
    line is read by the model before it answers, at tens of tokens a second. What
    changed last keeps its line: an earlier answer may have said its old state.
    """
    if not named:
        return state_scores
    floor = max(scores[d.entity_id] for d in named) * NAMED_SHARE
    recent = set(changed)
    return {e: s for e, s in state_scores.items() if s >= floor or e in recent}


def _ensure(devices: list[Device], required: Iterable[Device]) -> list[Device]:
    """Return `devices` with every required device in it (appended when missing)."""
    present = {d.entity_id for d in devices}
    return [*devices, *(d for d in required if d.entity_id not in present)]
