"""Accuracy with a real small model: this integration, core's ollama, the rule-based agent.

Not a CI test: `scripts/accuracy` runs it (the whole set, then it writes the README's
table) and `scripts/test` runs its smoke set when the model is installed. Both set
EOC_ACCURACY ("full" or "smoke"); without it the test is skipped, so `scripts/benchmark`
does not start a twenty-minute run by accident.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
import os
from pathlib import Path
import time

from homeassistant.core import HomeAssistant
import pytest

from .agents import (
    Agent,
    async_core_ollama,
    async_rule_based_agent,
    async_this_integration,
)
from .checks import Request
from .home import HomeBaseline, async_set_up_home
from .proxy import RecordingProxy
from .report import per_request_table, ratios, totals_table
from .requests import REQUESTS, SMOKE
from .runner import TurnResult, async_run_agent

MODE = os.environ.get("EOC_ACCURACY", "")
MODEL_URL = os.environ.get("EOC_MODEL_URL", "http://127.0.0.1:11436")
# A comma-separated choice of agents (rule-based, core, extended), for trying things.
ONLY = {a for a in os.environ.get("EOC_ACCURACY_AGENTS", "").split(",") if a}
# Only the first N requests, for trying things (unset: all).
FIRST = int(os.environ.get("EOC_ACCURACY_REQUESTS", "-1"))
# Skip the first N requests, to finish a run that was cut short.
SKIP = int(os.environ.get("EOC_ACCURACY_SKIP", "0"))
README = Path(__file__).parents[2] / "README.md"
MARKERS = ("<!-- accuracy-benchmark -->", "<!-- /accuracy-benchmark -->")
# The smoke run checks the model path, not the default timeout: a generous one.
SMOKE_SERVER_TIMEOUT = 600

pytestmark = pytest.mark.skipif(
    MODE not in ("full", "smoke"),
    reason="set EOC_ACCURACY=full or smoke (scripts/accuracy does) with the model up",
)


# The demo vacuum docks half a minute after it is sent home; that timer may outlive the run.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_accuracy(
    hass: HomeAssistant, socket_enabled: None, enable_custom_integrations: None
) -> None:
    """Run the requests with each agent, print the tables, and in a full run save them."""
    await async_set_up_home(hass)
    baseline = HomeBaseline(hass)
    proxy = RecordingProxy(MODEL_URL)
    await proxy.start()
    try:
        started = time.monotonic()
        agents, results = await _async_run_all(hass, baseline, proxy)
        minutes = (time.monotonic() - started) / 60
    finally:
        await proxy.stop()
    report = _report(agents, results, minutes)
    print("\n" + report)
    if MODE == "full" and not ONLY and FIRST < 0 and not SKIP:
        _write_readme(report)
    elif MODE == "smoke":
        _assert_model_path_works(results)


async def _async_run_all(
    hass: HomeAssistant, baseline: HomeBaseline, proxy: RecordingProxy
) -> tuple[list[Agent], list[TurnResult]]:
    """Each agent in turn, set up just before its run so its first request is cold."""
    results: list[TurnResult] = []
    agents = []
    setups: dict[str, Callable[[], Awaitable[Agent]]] = {
        "rule-based": lambda: async_rule_based_agent(hass),
        "extended": lambda: async_this_integration(hass, proxy.url),
        "core": lambda: async_core_ollama(hass, proxy.url),
    }
    requests: Sequence[Request] = REQUESTS
    if MODE == "smoke":
        del setups["core"]
        setups["extended"] = lambda: async_this_integration(
            hass, proxy.url, timeout=SMOKE_SERVER_TIMEOUT
        )
        requests = SMOKE
    requests = requests[SKIP:]
    # The person typing in the companion app: an administrator of the home.
    person = await hass.auth.async_create_user(
        "Benchmark person", group_ids=["system-admin"]
    )
    if FIRST >= 0:
        requests = requests[:FIRST]
    for name, setup in setups.items():
        if ONLY and name not in ONLY:
            continue
        agent = await setup()
        agents.append(agent)
        print(f"\n{agent.label} ({agent.agent_id}) {agent.settings}:", flush=True)
        results += await async_run_agent(
            hass, agent, requests, baseline, proxy, user_id=person.id
        )
    return agents, results


def _report(agents: list[Agent], results: list[TurnResult], minutes: float) -> str:
    ours = next((a for a in agents if a.label == "extended"), None)
    core = next((a for a in agents if a.label == "core ollama"), None)
    summary = ratios(results, ours, core) if ours and core else ""
    requests = len({r.request.text for r in results})
    return (
        f"{requests} requests, model qwen2.5-coder:1.5b (Q4_K_M, llama-server on "
        f"{os.cpu_count()} cores), {minutes:.1f} minutes for all agents. {summary}\n\n"
        f"{totals_table(agents, results)}\n\n{per_request_table(agents, results)}"
    )


def _assert_model_path_works(results: list[TurnResult]) -> None:
    """The smoke run fails on a broken model path, never on a wrong answer."""
    timeouts = [r.request.text for r in results if r.timed_out]
    assert not timeouts, f"turns timed out: {timeouts}"
    reached = [r for r in results if r.reached_model]
    assert reached, "no request reached the model"
    assert all(r.prompt_tokens > 0 for r in reached), "the model read no prompt"
    unanswered = [r.request.text for r in reached if not r.speech.strip()]
    assert not unanswered, f"no answer to: {unanswered}"


def _write_readme(report: str) -> None:
    """Put the tables between the README's accuracy markers."""
    start, end = MARKERS
    text = README.read_text()
    if start not in text or end not in text:
        return
    before, rest = text.split(start, 1)
    README.write_text(f"{before}{start}\n{report}\n{end}{rest.split(end, 1)[1]}")
