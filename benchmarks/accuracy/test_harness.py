"""The benchmark's machinery against the Ollama stand-in: no real model, seconds to run.

It checks what the real run relies on: the home resets, the agents are set up through
their forms, the proxy counts rounds and prompt tokens, and a turn the integration gave
up on counts as a timeout.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest

from tests.ollama_stub import Fault, OllamaStub, Reply

from .agents import MODEL, async_rule_based_agent, async_this_integration
from .home import HomeBaseline, async_set_up_home
from .proxy import RecordingProxy, is_warm_up
from .requests import REQUESTS
from .runner import async_run_agent

OFFICE = next(r for r in REQUESTS if r.text == "kill the lights in the office")
KITCHEN = next(r for r in REQUESTS if r.text == "turn off the kitchen lights")


@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_the_harness_judges_and_counts(
    hass: HomeAssistant, socket_enabled: None, enable_custom_integrations: None
) -> None:
    """A scripted tool call passes in one round; a silent server is a timeout."""
    stub = OllamaStub()
    stub.add_model(MODEL)
    await stub.start()
    proxy = RecordingProxy(stub.url)
    await proxy.start()
    try:
        await async_set_up_home(hass)
        baseline = HomeBaseline(hass)
        # No warm-up: its request would take the first scripted reply.
        agent = await async_this_integration(
            hass, proxy.url, {"warm_up": False}, timeout=5
        )
        stub.reply(
            Reply(
                tool_calls=[
                    {"name": "HassTurnOff", "arguments": {"name": "Office Lights"}}
                ]
            ),
        )
        passed, local = await async_run_agent(
            hass, agent, [OFFICE, KITCHEN], baseline, proxy
        )
        stub.fail(Fault.SLOW_FIRST_BYTE, path="/api/chat", delay=8)
        [slow] = await async_run_agent(hass, agent, [OFFICE], baseline, proxy)
        rules = await async_rule_based_agent(hass)
        [unmatched] = await async_run_agent(hass, rules, [OFFICE], baseline, proxy)
    finally:
        await proxy.stop()
        await stub.stop()
    assert passed.passed, passed.failure
    assert (passed.rounds, passed.timed_out) == (1, False)
    assert passed.speech == "The office lights are now off."
    assert passed.prompt_tokens > 0
    assert local.passed
    assert local.rounds == 0
    assert slow.timed_out
    assert not slow.passed
    assert not unmatched.passed
    assert unmatched.rounds == 0
    office = hass.states.get("light.office_rgbw_lights")
    assert office is not None
    assert office.state == "on"


def test_a_warm_up_is_no_round_of_a_turn() -> None:
    """The one-token warm-up is told from a turn's requests by what it asks for."""
    assert is_warm_up(b'{"model": "m", "options": {"num_ctx": 8192, "num_predict": 1}}')
    assert not is_warm_up(b'{"model": "m", "options": {"num_ctx": 8192}}')
    assert not is_warm_up(b"not json")
