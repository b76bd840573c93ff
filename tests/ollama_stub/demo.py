"""Demo mode: canned answers that show a request flowing through the integration.

This is not a language model. It echoes what it was asked, and when the request names
a tool it was offered and an entity it was told about, it calls that tool, so a person
can watch a turn go from Assist to the integration, to "Ollama" and back.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .server import Reply

LABEL = "[Ollama stand-in, not a language model]"
_TURN_WORDS = {"on": "HassTurnOn", "off": "HassTurnOff"}


def demo_reply(path: str, body: dict[str, Any]) -> Reply:
    """Answer a chat or generate request with a clearly labelled canned reply."""
    if path == "/api/generate":
        return Reply(f"{LABEL} You asked: {body.get('prompt', '')!s:.200}")
    messages = body.get("messages") or []
    if messages and messages[-1].get("role") == "tool":
        return Reply(f"{LABEL} {_tool_outcome(messages[-1])}")
    request = next(
        (m.get("content", "") for m in reversed(messages) if m.get("role") == "user"),
        "",
    )
    # The integration may add the home's states after the request, in a paragraph.
    request = request.split("\n\n", 1)[0]
    tool_names = {tool["function"]["name"] for tool in body.get("tools") or []}
    match = re.search(r"\bturn (on|off) (?:the )?(.+?)[.!?]*$", request, re.IGNORECASE)
    if match:
        wanted = _TURN_WORDS[match.group(1).lower()]
        tool = next((name for name in tool_names if name.endswith(wanted)), None)
        if tool is not None:
            return Reply(
                tool_calls=[{"name": tool, "arguments": {"name": match.group(2)}}]
            )
    return Reply(
        f"{LABEL} I received: {request!r:.200}. I was offered {len(tool_names)} tools. "
        "Connect a real Ollama server (set OLLAMA_URL) for real answers."
    )


def _tool_outcome(message: dict[str, Any]) -> str:
    """Say in words what a tool answered (JSON is not for reading aloud)."""
    tool = message.get("tool_name") or "called"
    try:
        result = json.loads(message.get("content") or "")
    except ValueError:
        result = None
    if not isinstance(result, dict):
        return f"Done: the {tool} tool ran."
    if result.get("error"):
        return f"The {tool} tool reported a problem: {result.get('error_text') or result['error']}"
    data = result.get("data")
    done = data.get("success") if isinstance(data, dict) else None
    names = [str(item.get("name")) for item in done or () if isinstance(item, dict)]
    return f"Done: the {tool} tool ran" + (
        f" for {', '.join(names)}." if names else "."
    )
