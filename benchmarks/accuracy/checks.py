"""How a request's result is judged: the home's state afterwards and the spoken answer.

Every check also demands that nothing else in the home changed, so a question that
flips a switch, or a command that hits the wrong device, fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
import re

from homeassistant.core import HomeAssistant, State

# The condition a device must end in: a state, or a test of the whole State.
type Expected = str | Callable[[State], bool]
# Words the answer must hold: fixed, or read from the home (the true value).
type Words = Sequence[str] | Callable[[HomeAssistant], Sequence[str]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a person would notice after a turn."""

    speech: str
    changed: Mapping[str, str]
    asks: bool


@dataclass(frozen=True, slots=True)
class Request:
    """A request, its kind and what must be true after it."""

    text: str
    kind: str
    states: Mapping[str, Expected] = field(default_factory=dict)
    # Each group: the answer holds at least one of its words.
    says: Sequence[Words] = ()
    denies: Sequence[str] = ()
    # A risky action: the answer must ask for confirmation, with nothing changed.
    confirm: bool = False

    def failure(self, hass: HomeAssistant, outcome: Outcome) -> str | None:
        """Why the request went wrong, or None when it went right."""
        for entity_id, expected in self.states.items():
            state = hass.states.get(entity_id)
            if state is None or not _matches(state, expected):
                return f"{entity_id} is {state.state if state else 'missing'}"
        if extra := sorted(set(outcome.changed) - set(self.states)):
            return "changed " + ", ".join(f"{e}={outcome.changed[e]}" for e in extra)
        if self.says and _words(outcome.speech) == _words(self.text):
            return "it repeated the question"
        for group in self.says:
            words = group(hass) if callable(group) else group
            if not any(_holds(outcome.speech, word) for word in words):
                return f"the answer lacks {' or '.join(map(repr, words))}"
        for word in self.denies:
            if _holds(outcome.speech, word):
                return f"the answer says {word!r}"
        if self.confirm and not (outcome.asks or outcome.speech.rstrip().endswith("?")):
            return "it did not ask for confirmation"
        return None


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _matches(state: State, expected: Expected) -> bool:
    return expected(state) if callable(expected) else state.state == expected


def _holds(speech: str, word: str) -> bool:
    """A whole word or phrase, any case; a number also as 19,5 or with a unit after."""
    pattern = re.escape(word.lower()).replace(r"\.", "[.,]")
    return re.search(rf"(?<![\w.]){pattern}(?![\w]|[.,]\d)", speech.lower()) is not None


def attribute(name: str, test: Callable[[object], bool], state: str = "") -> Expected:
    """A device whose attribute passes `test` (and whose state is `state`, if given)."""

    def check(now: State) -> bool:
        return (not state or now.state == state) and test(now.attributes.get(name))

    return check


def near(target: float, tolerance: float = 0.01) -> Callable[[object], bool]:
    """A number close to `target`."""
    return lambda value: (
        isinstance(value, int | float) and abs(value - target) <= tolerance
    )


def value_of(entity_id: str, attribute_name: str = "") -> Words:
    """The device's true state (or attribute) now, in the forms an answer may use."""

    def words(hass: HomeAssistant) -> Sequence[str]:
        state = hass.states.get(entity_id)
        if state is None:
            return ["<missing>"]
        raw = state.attributes.get(attribute_name) if attribute_name else state.state
        return _number_forms(raw)

    return words


def _number_forms(raw: object) -> list[str]:
    """'21.0' is also said as '21'; 0.4 of a volume as '40'."""
    text = str(raw)
    try:
        number = float(text)
    except ValueError:
        return [text]
    forms = {text, f"{number:g}"}
    if number.is_integer():
        forms.add(str(int(number)))
    if 0 < number <= 1 and not number.is_integer():
        forms.add(f"{number * 100:g}")
    return sorted(forms)
