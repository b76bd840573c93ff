"""Per-turn overhead of this integration against Home Assistant's own `ollama` integration.

Both run in one Home Assistant, on the same demo home, against the same Ollama stand-in,
which answers at once: what is measured is each integration's own work for a turn with
one tool call (two requests), plus the identical loopback HTTP both pay. Not a CI test:
run it with `scripts/benchmark`.
"""

from __future__ import annotations

from collections.abc import Callable
import statistics
import time
import tracemalloc
from typing import Any

from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import llm
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import DOMAIN
from tests.ollama_stub import OllamaStub, Reply

TURNS = 40
WARMUP = 5
MEMORY_TURNS = 5
REQUEST = "turn off the kitchen lights"


def _entry(
    domain: str, data: dict[str, Any], title: str, options: dict[str, Any]
) -> MockConfigEntry:
    return MockConfigEntry(
        domain=domain,
        data=data,
        version=3 if domain == "ollama" else 1,
        minor_version=3 if domain == "ollama" else 1,
        subentries_data=[
            ConfigSubentryData(
                subentry_type="conversation", data=options, title=title, unique_id=None
            )
        ],
    )


async def _measure(
    hass: HomeAssistant,
    agent_id: str,
    script: Callable[[], None],
    expected: str = "Done.",
) -> tuple[list[float], int]:
    """Run TURNS turns untraced for time, then a few traced for peak memory (bytes)."""
    seconds = []
    for turn in range(WARMUP + TURNS + MEMORY_TURNS):
        if turn == WARMUP + TURNS:
            tracemalloc.start()
        script()
        hass.states.async_set("light.kitchen_lights", "on")
        start = time.perf_counter()
        result = await conversation.async_converse(
            hass, REQUEST, None, Context(), language="en", agent_id=agent_id
        )
        elapsed = time.perf_counter() - start
        assert result.response.speech["plain"]["speech"] == expected
        assert hass.states.get("light.kitchen_lights").state == "off"
        if WARMUP <= turn < WARMUP + TURNS:
            seconds.append(elapsed)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak


async def test_turn_overhead(
    hass: HomeAssistant, socket_enabled: None, enable_custom_integrations: None
) -> None:
    """Print median per-turn time of both integrations and their ratio."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "demo", {})
    assert await async_setup_component(hass, "intent", {})
    await hass.async_block_till_done()
    async_expose_entity(hass, "conversation", "lock.front_door", True)
    stub = OllamaStub()
    await stub.start()
    agent = {"model": "qwen2.5:3b", "llm_hass_api": [llm.LLM_API_ASSIST]}
    core = _entry("ollama", {"url": stub.url}, "Core agent", agent)
    ours = _entry(
        DOMAIN,
        {"url": stub.url, "timeout": 30},
        "Extended agent",
        {**agent, "prefer_local": False},
    )
    ours_local = _entry(
        DOMAIN,
        {"url": stub.url + "/", "timeout": 30},
        "Extended local agent",
        {**agent, "prefer_local": True},
    )
    for entry in (core, ours, ours_local):
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    def one_tool_call() -> None:
        stub.reply(
            Reply(
                tool_calls=[
                    {
                        "name": "intent__HassTurnOff",
                        "arguments": {"name": "Kitchen Lights"},
                    }
                ]
            ),
            "Done.",
        )

    results = {}
    for name, agent_id, script in (
        ("core ollama", "conversation.core_agent", one_tool_call),
        ("extended (model path)", "conversation.extended_agent", one_tool_call),
        (
            "core ollama",
            "conversation.core_agent",
            one_tool_call,
        ),  # again: order effects
        ("extended (model path)", "conversation.extended_agent", one_tool_call),
    ):
        seconds, peak = await _measure(hass, agent_id, script)
        results.setdefault(name, ([], 0))
        results[name] = (results[name][0] + seconds, max(results[name][1], peak))
    local_seconds, local_peak = await _measure(
        hass, "conversation.extended_local_agent", lambda: None, "Turned off the light"
    )
    assert not stub.pending_replies
    results["extended (local first)"] = (local_seconds, local_peak)
    await stub.stop()

    core_median = statistics.median(results["core ollama"][0])
    print(
        f"\nPer-turn time, one tool-calling turn, {TURNS * 2} turns each after warm-up:"
    )
    print("| integration | median ms | p90 ms | peak traced KiB | ratio to core |")
    print("| --- | --- | --- | --- | --- |")
    for name, (seconds, peak) in results.items():
        median = statistics.median(seconds)
        p90 = statistics.quantiles(seconds, n=10)[-1]
        print(
            f"| {name} | {median * 1000:.1f} | {p90 * 1000:.1f} | {peak / 1024:.0f} "
            f"| {median / core_median:.2f} |"
        )
