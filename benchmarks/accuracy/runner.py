"""Runs every request with one agent: reset the home, converse, judge, record."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
import logging
import time

from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant

from .agents import Agent
from .checks import Outcome, Request
from .home import HomeBaseline, async_settle
from .proxy import RecordingProxy

_LOGGER = logging.getLogger(__name__)
# The benchmark's own limit on one turn: far above any integration's default, so a
# turn that hits it is a hang, counted as a timeout.
TURN_LIMIT_SECONDS = 600


@dataclass(frozen=True, slots=True)
class TurnResult:
    """One request with one agent, as the table shows it."""

    request: Request
    agent: Agent
    failure: str | None
    seconds: float
    rounds: int
    prompt_tokens: int
    timed_out: bool
    speech: str

    @property
    def passed(self) -> bool:
        """The request went right."""
        return self.failure is None

    @property
    def reached_model(self) -> bool:
        """At least one request went to the model (not answered locally)."""
        return self.rounds > 0


async def async_run_agent(
    hass: HomeAssistant,
    agent: Agent,
    requests: Sequence[Request],
    baseline: HomeBaseline,
    proxy: RecordingProxy,
    *,
    user_id: str | None = None,
) -> list[TurnResult]:
    """Every request with `agent`, each on the home as it was at set-up.

    `user_id`: the person asking, as the companion app's chat sends it.
    """
    results = []
    for request in requests:
        await baseline.async_restore()
        result = await _async_turn(
            hass, agent, request, (baseline, proxy), Context(user_id=user_id)
        )
        results.append(result)
        print(_progress_line(result), flush=True)
    await baseline.async_restore()
    return results


async def _async_turn(
    hass: HomeAssistant,
    agent: Agent,
    request: Request,
    recorders: tuple[HomeBaseline, RecordingProxy],
    context: Context,
) -> TurnResult:
    baseline, proxy = recorders
    mark = len(proxy.records)
    started = time.monotonic()
    timed_out = False
    speech, asks = "", False
    try:
        async with asyncio.timeout(TURN_LIMIT_SECONDS):
            result = await conversation.async_converse(
                hass,
                request.text,
                None,
                context,
                language="en",
                agent_id=agent.agent_id,
            )
        speech = result.response.speech.get("plain", {}).get("speech", "")
        asks = result.continue_conversation
    except TimeoutError:
        timed_out = True
    seconds = time.monotonic() - started
    await async_settle(hass)
    records = proxy.since(mark)
    timed_out = timed_out or any(record.gave_up for record in records)
    outcome = Outcome(speech=speech, changed=baseline.changed(), asks=asks)
    failure = "timed out" if timed_out else request.failure(hass, outcome)
    return TurnResult(
        request=request,
        agent=agent,
        failure=failure,
        seconds=seconds,
        rounds=len(records),
        prompt_tokens=records[0].prompt_tokens if records else 0,
        timed_out=timed_out,
        speech=speech,
    )


def _progress_line(result: TurnResult) -> str:
    verdict = "pass" if result.passed else f"FAIL ({result.failure})"
    return (
        f"  [{result.agent.label}] {result.request.text!r}: {verdict}, "
        f"{result.seconds:.1f} s, {result.rounds} rounds, {result.prompt_tokens} tok; "
        f"said {result.speech[:160]!r}"
    )
