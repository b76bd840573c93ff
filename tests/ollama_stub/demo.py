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
    if call := _device_call(request, tool_names):
        return Reply(tool_calls=[call])
    return Reply(
        f"{LABEL} I received: {request!r:.200}. I was offered {len(tool_names)} tools. "
        "Connect a real Ollama server (set OLLAMA_URL) for real answers."
    )


def _device_call(request: str, tool_names: set[str]) -> dict[str, Any] | None:
    """The tool call for "turn off X", "switch the X off" or "unlock X", if offered.

    "It is dark in the kitchen, please switch the lights off" names the lights by the
    area it mentions ("kitchen lights"), as a model would.
    """
    action, name = "", ""
    if match := re.search(
        r"\b(?:turn|switch) (on|off) (?:the )?(.+?)[.!?]*$", request, re.IGNORECASE
    ):
        action, name = match.group(1), match.group(2)
    elif match := re.search(
        r"\b(?:turn|switch) (?:the )?(.+?) (on|off)\b", request, re.IGNORECASE
    ):
        action, name = match.group(2), match.group(1)
    elif match := re.search(
        r"\b(unlock|lock) (?:the )?(.+?)[.!?]*$", request, re.IGNORECASE
    ):
        action, name = match.group(1), match.group(2)
    if not action:
        return None
    action = action.lower()
    name = re.sub(r"\W+(?:please|now)\W*$", "", name, flags=re.IGNORECASE)
    area = re.search(r"\bin the (\w+(?: room)?)\b", request, re.IGNORECASE)
    if area and area.group(1).lower() not in name.lower():
        name = f"{area.group(1)} {name}"
    control = next((tool for tool in tool_names if tool.endswith("control")), None)
    if control is not None:
        word = {"on": "turn_on", "off": "turn_off"}.get(action, action)
        return {"name": control, "arguments": {"name": name, "action": word}}
    # Home Assistant's own intents: unlocking a lock is its turn-off.
    wanted = _TURN_WORDS[{"unlock": "off", "lock": "on"}.get(action, action)]
    tool = next((tool for tool in tool_names if tool.endswith(wanted)), None)
    return None if tool is None else {"name": tool, "arguments": {"name": name}}


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
