"""The prompt never outgrows num_ctx: oldest turns go first, never the instructions."""

from __future__ import annotations

import json
import logging
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.context_window import (
    TokenEstimator,
    fit_messages,
)

from .helpers import ask, messages_of
from .ollama_stub import OllamaStub, Reply

SMALL_CONTEXT = {
    "model": "qwen2.5:3b",
    "num_ctx": 2048,
    "prefer_local": False,
    "max_history": 0,
}


@pytest.mark.parametrize("agent_options", [SMALL_CONTEXT])
async def test_oldest_turns_are_dropped_to_fit(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Long turns push the oldest out; the system prompt and the request always stay."""
    conversation_id = None
    for turn in range(4):
        ollama_stub.reply(f"answer {turn}")
        result = await ask(hass, f"request {turn}: " + "words " * 400, conversation_id)
        conversation_id = result.conversation_id
    last = ollama_stub.requests_to("/api/chat")[-1].body
    users = [m["content"][:9] for m in messages_of(last, "user")]
    assert users[-1] == "request 3"
    assert "request 0" not in users
    assert last["messages"][0]["role"] == "system"
    assert "Home Assistant" in last["messages"][0]["content"]
    assert "Dropped the" in caplog.text
    estimator = agent_entry.runtime_data.estimator
    assert estimator.estimate("qwen2.5:3b", last["messages"], 0) <= 2048 - 512


@pytest.mark.parametrize(
    "agent_options", [{**SMALL_CONTEXT, "num_ctx": 32768, "max_history": 2}]
)
async def test_max_history_limits_turns(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """max_history keeps that many earlier turns."""
    conversation_id = None
    for turn in range(5):
        ollama_stub.reply(f"answer {turn}")
        result = await ask(hass, f"request {turn}", conversation_id)
        conversation_id = result.conversation_id
    last = ollama_stub.requests_to("/api/chat")[-1].body
    assert [m["content"] for m in messages_of(last, "user")] == [
        "request 2",
        "request 3",
        "request 4",
    ]


async def test_estimate_is_calibrated_by_what_ollama_counts(
    hass: HomeAssistant, ollama_stub: OllamaStub, agent_entry: MockConfigEntry
) -> None:
    """prompt_eval_count teaches the estimator this model's characters per token."""
    estimator = agent_entry.runtime_data.estimator
    assert "qwen2.5:3b" not in estimator.chars_per_token
    ollama_stub.reply(Reply("ok", prompt_eval_count=4000))
    await ask(hass, "hello")
    learned = estimator.chars_per_token["qwen2.5:3b"]
    body = ollama_stub.requests_to("/api/chat")[0].body
    # Overestimating a little is the safe side: 5 % of text tokens, by design.
    assert estimator.estimate(
        "qwen2.5:3b", body["messages"], len(json.dumps(body["tools"]))
    ) == pytest.approx((4000 - 8) / 0.95 + 8, abs=2)
    # A prompt served from Ollama's cache counts few tokens: not a measurement.
    ollama_stub.reply(Reply("ok", prompt_eval_count=3))
    await ask(hass, "hello again")
    assert estimator.chars_per_token["qwen2.5:3b"] == learned
    assert agent_entry.runtime_data.usage.prompt_tokens == 4003


def test_fit_messages_keeps_system_and_current_request() -> None:
    """Even when nothing else fits, the instructions and the request are sent."""
    messages = [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": "old"},
        {"role": "assistant", "content": "old answer"},
        {"role": "user", "content": "new " * 100},
    ]
    fitted, dropped = fit_messages(
        messages,
        max_history=0,
        budget=1,
        estimate=lambda m: sum(len(x["content"]) for x in m),
    )
    assert fitted == [messages[0], messages[3]]
    assert dropped == 1
    assert fit_messages(messages[:1], max_history=0, budget=1, estimate=len) == (
        messages[:1],
        0,
    )


def test_estimator_defaults_and_ignores_nonsense() -> None:
    """Without a measurement the estimate is cautious; odd measurements are ignored."""
    estimator = TokenEstimator()
    messages = [{"role": "user", "content": "x" * 320}]
    assert estimator.estimate("m", messages, 0) == 101 + 4
    estimator.calibrate("m", messages, 0, 2)  # fewer tokens than messages
    estimator.calibrate("m", messages, 0, 1000)  # 0.3 characters a token
    assert estimator.chars_per_token == {}
    logging.getLogger(__name__).debug("estimator %s", estimator)
