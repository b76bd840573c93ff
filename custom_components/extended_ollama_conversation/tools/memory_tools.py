"""The memory's two tools: `save_memory` and `forget_memory`, one text argument each.

A 1.5B model writes a call as JSON text; one short name per job and a single argument
is what it gets right. The names are not words an answer uses ("I'll remember that"),
so the answer check never takes the model's words for a tool's name. Neither tool
reads or changes the home: the policy lets them through, in a question turn too ("can
you remember that ...?"). They are offered whenever the agent's `memory` option is on,
whatever the request, so the prompt's start stays the same from turn to turn.
"""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, llm
import probatio as vol

from ..const import DOMAIN
from ..memory import (
    MemorySettings,
    MemoryStore,
    clean_fact,
    matching,
    memory_store,
)

SAVE_MEMORY = "save_memory"
FORGET_MEMORY = "forget_memory"
MEMORY_TOOL_NAMES = frozenset({SAVE_MEMORY, FORGET_MEMORY})
# For the home, both only read: the policy judges calls by what they do to the home.
_NO_HOME_EFFECT = llm.ToolAnnotations(
    read_only=True, destructive=False, idempotent=False, open_world=False
)
NEEDS_PERSON = (
    "Memory is kept per person and this request has no user, so nothing was "
    "remembered or forgotten. Tell the user."
)


# Words of a request about the memory ("remember", "forget", "keep in mind", "note").
_MEMORY_WORDS = re.compile(
    r"\b(remember|forget|memori[sz]e|keep in mind|make a note|note that|recall)",
    re.IGNORECASE,
)
NOT_ASKED = (
    "The user did not ask you to remember or forget anything, so nothing was "
    "saved. Do what the request asks: control to act, get_state to read, or answer."
)


def asks_about_memory(text: str) -> bool:
    """Whether the request speaks of remembering or forgetting.

    Measured with a 1.5B model: "no need for the hallway lights anymore" became
    save_memory("The hallway lights are off.") and the answer "they are off".
    """
    return bool(_MEMORY_WORDS.search(text))


def unasked_memory_call(tool_name: str, request_text: str) -> llm.ToolResult | None:
    """The refusal of a memory call in a request that is not about the memory."""
    if tool_name not in MEMORY_TOOL_NAMES or asks_about_memory(request_text):
        return None
    return _error("NotAsked", NOT_ASKED)


def _error(code: str, text: str) -> llm.ToolResult:
    return llm.ToolResult(data={"error": code, "error_text": text}, error=True)


def _user_id(llm_context: llm.LLMContext) -> str | None:
    return llm_context.context.user_id if llm_context.context else None


class _MemoryTool(llm.Tool):
    """What both tools share: the agent's memory settings and the store."""

    integration = DOMAIN
    annotations = _NO_HOME_EFFECT

    def __init__(self, settings: MemorySettings) -> None:
        """Hold the agent's bounds and its rule for requests without a user."""
        self.settings = settings

    def _store(
        self, hass: HomeAssistant, llm_context: llm.LLMContext
    ) -> MemoryStore | llm.ToolResult:
        store = memory_store(hass)
        if store is None:
            return _error("NotLoaded", "The memory is not available.")
        if not self.settings.readable_by(_user_id(llm_context)):
            return _error("NeedsPerson", NEEDS_PERSON)
        return store


class SaveMemoryTool(_MemoryTool):
    """Keep a fact the user asked to be remembered."""

    name = SAVE_MEMORY
    description = "Remember a fact the user asks you to remember."
    parameters = vol.Schema({vol.Required("fact"): cv.string})

    async def async_call(
        self,
        hass: HomeAssistant,
        tool_input: llm.ToolInput,
        llm_context: llm.LLMContext,
    ) -> llm.ToolResult:
        """Store the fact for the caller (oldest entries go past the bounds)."""
        store = self._store(hass, llm_context)
        if isinstance(store, llm.ToolResult):
            return store
        fact = clean_fact(tool_input.tool_args.get("fact", ""))
        if not fact:
            return _error("InvalidArguments", "Give the fact to remember.")
        store.async_add(_user_id(llm_context), fact, self.settings)
        return llm.ToolResult(
            data={"remembered": fact, "note": "Saved. Tell the user in a few words."}
        )


class ForgetMemoryTool(_MemoryTool):
    """Forget facts the user no longer wants remembered."""

    name = FORGET_MEMORY
    description = "Forget a remembered fact, or all (fact: all)."
    parameters = vol.Schema({vol.Required("fact"): cv.string})

    async def async_call(
        self,
        hass: HomeAssistant,
        tool_input: llm.ToolInput,
        llm_context: llm.LLMContext,
    ) -> llm.ToolResult:
        """Forget the caller's entries that the words mean; say which."""
        store = self._store(hass, llm_context)
        if isinstance(store, llm.ToolResult):
            return store
        own = store.entries(_user_id(llm_context))
        found = matching(own, str(tool_input.tool_args.get("fact", "")))
        if not found:
            return _error(
                "NotFound",
                "No remembered fact matches. Remembered: "
                + ("; ".join(entry["text"] for entry in own[-10:]) or "nothing"),
            )
        store.async_remove(found)
        return llm.ToolResult(
            data={
                "forgotten": [entry["text"] for entry in found],
                "note": "Forgotten. Tell the user in a few words.",
            }
        )


def add_memory_tools(api: llm.APIInstance | None, options: Mapping[str, Any]) -> None:
    """Offer the memory tools with the chat log's LLM API, when the option is on."""
    settings = MemorySettings.from_options(options)
    if api is None or not settings.enabled:
        return
    taken = {tool.name for tool in api.tools}
    api.tools.extend(
        tool
        for tool in (SaveMemoryTool(settings), ForgetMemoryTool(settings))
        if tool.name not in taken
    )
