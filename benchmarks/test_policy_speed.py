"""The policy's own time per tool call at 2000 exposed entities.

Resolving a call's targets among the exposed entities and deciding on it, without
running it: what every call pays before it acts. Run with
`scripts/benchmark benchmarks/test_policy_speed.py`.
"""

from __future__ import annotations

import statistics
import time

from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import llm
from homeassistant.setup import async_setup_component

from custom_components.extended_ollama_conversation.tools.policy import (
    PolicySettings,
    Request,
    decide,
    resolve_effects,
)

ENTITIES = 2000
ROUNDS = 200
CALLS = {
    "turn off a light by name": ("intent__HassTurnOff", {"name": "Bench Light 1234"}),
    "unlock a lock (needs a yes)": ("intent__HassTurnOff", {"name": "Bench Lock 7"}),
    "unknown name": ("intent__HassTurnOn", {"name": "Nothing Like It"}),
    "all lights of a kind": ("intent__HassTurnOff", {"domain": ["switch"]}),
    "read-only tool": ("homeassistant__GetLiveContext", {}),
}


async def test_policy_speed(hass: HomeAssistant) -> None:
    """Print the median and 95th percentile per call; 2000 entities are exposed."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "intent", {})
    assert await async_setup_component(hass, "llm", {})
    for index in range(ENTITIES):
        domain, kind = (
            ("lock", "Lock")
            if index % 50 == 7
            else ("switch", "Switch")
            if index % 10 == 3
            else ("light", "Light")
        )
        entity_id = f"{domain}.bench_{index}"
        state = "locked" if domain == "lock" else "on"
        hass.states.async_set(
            entity_id, state, {"friendly_name": f"Bench {kind} {index}"}
        )
        async_expose_entity(hass, "conversation", entity_id, True)
    await hass.async_block_till_done()
    llm_context = llm.LLMContext(
        platform="conversation",
        context=Context(user_id="bench"),
        language="en",
        assistant="conversation",
        device_id=None,
    )
    api = await llm.async_get_api(hass, llm.LLM_API_ASSIST, llm_context)
    tools = {tool.name: tool for tool in api.tools}
    request = Request(
        user_id="bench", is_admin=True, is_question=False, conversation_id="bench"
    )
    settings = PolicySettings()
    print(f"\n| call ({ENTITIES} exposed entities) | median ms | p95 ms | verdict |")
    print("| --- | --- | --- | --- |")
    for label, (tool_name, args) in CALLS.items():
        timings = []
        decision = None
        for _ in range(ROUNDS):
            start = time.perf_counter()
            resolution = resolve_effects(hass, tools[tool_name], args, llm_context)
            decision = decide(resolution, request, settings)
            timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        assert decision is not None
        print(
            f"| {label} | {statistics.median(timings):.2f} | "
            f"{timings[int(len(timings) * 0.95)]:.2f} | {decision.verdict} |"
        )
