"""Calls on devices the request does not name, in a burst that names one, are not run.

A 1.5B model asked "no need for the hallway lights anymore" wrote five calls: the
hallway lights, then the office lights, the bed light and the living room blinds (the
devices it had read about last). When one call of a burst acts on a device the request
names, the others that act on devices it does not name are sent back unrun. A request
for everything ("all the lights", "both") or for several things ("... and ...") is
taken as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
import re

from homeassistant.helpers import llm

from ..context.devices import STOP_WORDS, words_of
from .device_tools import CONTROL

# Words that ask for more than the devices they name, or for several things.
_MANY = re.compile(
    r"\b(all|every\w*|both|each|whole|entire|and|then|also)\b", re.IGNORECASE
)
NOT_NAMED_CODE = "NotNamed"
NOT_NAMED = (
    "Not run: the user did not ask about this device. Act only on the devices the "
    "request names."
)

type PreparedCall = tuple[llm.ToolInput, llm.ToolResult | None]


def focus_on_request(
    prepared: Sequence[PreparedCall], request: str
) -> list[PreparedCall]:
    """The burst with its calls on devices the request does not name turned back."""
    acting = [
        t for t, refusal in prepared if refusal is None and t.tool_name == CONTROL
    ]
    if len(acting) < 2 or _MANY.search(request):
        return list(prepared)
    asked = set(words_of(request))
    unnamed = [t for t in acting if not _names(t, asked)]
    if len(unnamed) == len(acting):
        return list(prepared)
    return [
        (tool_input, _not_named() if tool_input in unnamed else refusal)
        for tool_input, refusal in prepared
    ]


def _names(tool_input: llm.ToolInput, asked: set[str]) -> bool:
    """Whether every word of the call's device name is a word of the request."""
    words = set(words_of(str(tool_input.tool_args.get("name", "")))) - STOP_WORDS
    return bool(words) and words <= asked


def _not_named() -> llm.ToolResult:
    return llm.ToolResult(
        data={"error": NOT_NAMED_CODE, "error_text": NOT_NAMED}, error=True
    )
