"""The prompt never outgrows num_ctx: oldest turns go first, never the instructions."""

from __future__ import annotations

import json
import logging
from typing import Any

from homeassistant.const import CONF_PROMPT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir, llm
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import DOMAIN
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


def _fits(body: dict[str, Any]) -> bool:
    """The conservative check: characters / 3.5 over the messages and the tools."""
    chars = sum(len(m.get("content") or "") for m in body["messages"])
    chars += len(json.dumps(body.get("tools") or []))
    return chars / 3.5 <= body["options"]["num_ctx"]


async def _fifteen_long_turns(hass: HomeAssistant, stub: OllamaStub) -> str | None:
    """15 turns of about 300 tokens each (request and answer); the conversation id."""
    conversation_id = None
    for turn in range(15):
        stub.reply(f"answer {turn} " + "and so on " * 20)
        result = await ask(
            hass, f"request {turn}: " + "tell me more " * 80, conversation_id
        )
        conversation_id = result.conversation_id
    return conversation_id


ASSIST_2048 = {**SMALL_CONTEXT, "llm_hass_api": [llm.LLM_API_ASSIST], "max_history": 0}
# Instructions that alone take more than 2048 tokens: num_ctx must be raised.
LONG_INSTRUCTIONS = "Always answer as briefly as you can, in one sentence. " * 150


@pytest.mark.parametrize("agent_options", [ASSIST_2048])
async def test_fifteen_long_turns_with_assist_at_2048(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """Every request fits; num_ctx is raised only when nothing more can be left out."""
    await _fifteen_long_turns(hass, ollama_stub)
    bodies = [r.body for r in ollama_stub.requests_to("/api/chat")]
    assert len(bodies) == 15
    assert all(_fits(body) for body in bodies)
    # One num_ctx for all (a new one makes Ollama load the model again).
    assert len({body["options"]["num_ctx"] for body in bodies}) == 1
    for number, body in enumerate(bodies):
        users = [m["content"] for m in messages_of(body, "user")]
        assert users[-1].startswith(f"request {number}:")
        if body["options"]["num_ctx"] > 2048:
            # Raised: every earlier turn had already been left out.
            assert len(users) == 1
    assert bodies[-1]["messages"][0]["role"] == "system"


@pytest.mark.parametrize(
    "agent_options", [{**ASSIST_2048, CONF_PROMPT: LONG_INSTRUCTIONS}]
)
async def test_num_ctx_is_raised_just_enough_with_a_repair(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Instructions too long for num_ctx: raised once, to one size, logged once."""
    conversation_id = await _fifteen_long_turns(hass, ollama_stub)
    bodies = [r.body for r in ollama_stub.requests_to("/api/chat")]
    assert all(_fits(body) for body in bodies)
    assert all(len(messages_of(body, "user")) == 1 for body in bodies)
    sent = {body["options"]["num_ctx"] for body in bodies}
    assert len(sent) == 1
    num_ctx = sent.pop()
    assert 2048 < num_ctx <= 32768
    smallest = min(
        sum(len(m.get("content") or "") for m in body["messages"])
        + len(json.dumps(body["tools"]))
        for body in bodies
    )
    assert num_ctx <= smallest / 3.0 + 512 + 256  # just enough, by a cautious count
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, "num_ctx_too_small_conversation.ollama_conversation"
    )
    assert issue is not None
    assert issue.translation_placeholders["needed"] == str(num_ctx)
    assert caplog.text.count("more than its num_ctx 2048 allows") == 1

    # Taking the repair's advice clears it; the next request fits as it is.
    subentry = next(
        s for s in agent_entry.subentries.values() if s.subentry_type == "conversation"
    )
    hass.config_entries.async_update_subentry(
        agent_entry, subentry, data={**subentry.data, "num_ctx": num_ctx}
    )
    await hass.async_block_till_done()
    assert not ir.async_get(hass).issues
    ollama_stub.reply("fine")
    await ask(hass, "one more " + "tell me more " * 80, conversation_id)
    last = ollama_stub.requests_to("/api/chat")[-1].body
    assert last["options"]["num_ctx"] == num_ctx
    assert _fits(last)
    assert not ir.async_get(hass).issues


@pytest.mark.parametrize(
    "agent_options",
    [
        {
            **SMALL_CONTEXT,
            "llm_hass_api": [DOMAIN],
            "num_ctx": 8192,
            "context_budget": 7000,
        }
    ],
)
async def test_directory_shrinks_before_num_ctx_is_raised(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    agent_entry: MockConfigEntry,
    agent_options: dict[str, Any],
) -> None:
    """A home description too large for num_ctx is rebuilt smaller; num_ctx stays."""
    for number in range(600):
        hass.states.async_set(
            f"light.lamp_{number}",
            "on",
            {"friendly_name": f"Lamp number {number} beside the reading armchair"},
        )
    await hass.async_block_till_done()
    ollama_stub.reply("Lamp number 7 is on.")
    await ask(hass, "is lamp number 7 beside the reading armchair on?")
    body = ollama_stub.requests_to("/api/chat")[0].body
    assert _fits(body)
    assert body["options"]["num_ctx"] == 8192
    system = body["messages"][0]["content"]
    assert 0 < system.count("Lamp number") < 600
    # The device the request names is still described, with its state.
    assert "Lamp number 7 beside" in body["messages"][-1]["content"]
    assert not ir.async_get(hass).issues
