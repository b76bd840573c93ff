"""Whether a request only asks about the home (placeholder until branch `context`).

Branch `context` owns this module; this stand-in keeps the same signature so that the
policy can be built and tested first. On merge, take that branch's version.
"""

from __future__ import annotations

import re

_QUESTION_START = re.compile(
    r"^(is|are|was|were|what|what's|whats|which|when|how|how's|does|do|did|has|have|"
    r"who|where|why|tell me|show me|list|check)\b",
    re.IGNORECASE,
)
_COMMAND = re.compile(
    r"\b(turn|switch|set|lock|unlock|open|close|start|stop|dim|brighten|raise|lower|"
    r"activate|run|play|pause|arm|disarm|toggle|make)\b",
    re.IGNORECASE,
)
_POLITE = re.compile(
    r"^(can|could|would|will) you\b|^please\b|^(can|could) i\b", re.IGNORECASE
)


def is_question(text: str, language: str) -> bool:
    """True when the request asks about the home and commands nothing."""
    request = text.strip()
    if _POLITE.search(request):
        return False
    clauses = re.split(r"[,.;!]|\band\b|\bthen\b", request)
    if any(_COMMAND.match(clause.strip()) for clause in clauses):
        return False
    return bool(_QUESTION_START.search(request))
