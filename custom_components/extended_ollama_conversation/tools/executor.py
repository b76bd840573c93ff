"""Run an allowed call and say what really happened to each entity it targeted.

Small models repeat what they read; so the result they read after a call holds each
entity's state after the call, whether it changed, and a short note ("still
unlocked"), instead of leaving them to guess from an intent response.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
import logging
from typing import Any

from homeassistant.core import (
    Context,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import llm
from homeassistant.helpers.event import async_track_state_change_event
import probatio as vol

from .effects import Effect
from .wording import be, name_of, the, verb

_LOGGER = logging.getLogger(__name__)
# Many devices report their new state a moment after the service call returns (a
# Zigbee bulb, an integration that writes its state from a worker thread). Without
# waiting, the result says "still off" and the model is asked again.
SETTLE_SECONDS = 1.0

# The states an action aims for; a call that ends elsewhere did not do what it says.
_GOALS: dict[str, frozenset[str]] = {
    "lock": frozenset({"locked", "locking"}),
    "unlock": frozenset({"unlocked", "unlocking", "open", "opening"}),
    "open": frozenset({"open", "opening", "unlocked"}),
    "open_cover": frozenset({"open", "opening"}),
    "close_cover": frozenset({"closed", "closing"}),
    "open_valve": frozenset({"open", "opening"}),
    "close_valve": frozenset({"closed", "closing"}),
    "turn_on": frozenset({"on"}),
    "turn_off": frozenset({"off"}),
    "alarm_disarm": frozenset({"disarmed"}),
}


@dataclass(frozen=True, slots=True)
class EntityResult:
    """One entity after a call."""

    effect: Effect
    name: str
    state: str
    changed: bool
    # Requested values the entity does not hold after the call ({"temperature": 20}).
    missed: tuple[str, ...] = ()

    @property
    def reached(self) -> bool:
        """Whether the entity is where the action aims (True when that is unknown)."""
        goal = _GOALS.get(self.effect.action)
        return (goal is None or self.state in goal) and not self.missed

    @property
    def note(self) -> str:
        """'now unlocked' or 'still locked'."""
        return f"{'now' if self.changed else 'still'} {self.state}"

    @property
    def speech(self) -> str:
        """What the person hears about it: "The back door is still unlocked."."""
        name = the(self.name)
        name, is_ = f"{name[0].upper()}{name[1:]}", be(self.name)
        if self.changed and self.reached:
            return f"{name} {is_} now {self.state}."
        if not self.changed:
            return f"{name} {is_} still {self.state}."
        return f"{name} did not {verb(self.effect.action)}; it is {self.state}."

    def as_dict(self) -> dict[str, Any]:
        """The form the model reads."""
        return {
            "name": self.name,
            "state": self.state,
            "changed": self.changed,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Execution:
    """What running a call gave: the result for the model, each entity, any error."""

    result: llm.ToolResult
    entities: tuple[EntityResult, ...]
    error: str | None = None


type _Snapshot = dict[str, tuple[str, dict[str, Any]]]


def _states(hass: HomeAssistant, effects: Iterable[Effect]) -> _Snapshot:
    return {
        effect.entity_id: (state.state, dict(state.attributes))
        for effect in effects
        if effect.changes_home and (state := hass.states.get(effect.entity_id))
    }


def _missed(effect: Effect, attributes: dict[str, Any]) -> tuple[str, ...]:
    """Requested values that the entity's attribute of the same name does not hold."""
    missed = []
    for key, wanted in effect.data:
        if key in attributes and not _same(attributes[key], wanted):
            missed.append(key)
    return tuple(missed)


def _same(held: Any, wanted: Any) -> bool:
    try:
        return abs(float(held) - float(wanted)) < 0.01
    except TypeError, ValueError:
        return str(held).lower() == str(wanted).lower()


def _changed(
    effect: Effect,
    before: tuple[str, dict[str, Any]] | None,
    after: tuple[str, dict[str, Any]],
) -> bool:
    """The state, or a value the call asked for, differs from before the call."""
    if before is None or before[0] != after[0]:
        return True
    return any(before[1].get(key) != after[1].get(key) for key, _ in effect.data)


def _compare(
    hass: HomeAssistant, effects: Iterable[Effect], before: _Snapshot
) -> tuple[EntityResult, ...]:
    after = _states(hass, effects)
    results = []
    for effect in effects:
        if not effect.changes_home:
            continue
        state, attributes = after.get(effect.entity_id, ("unavailable", {}))
        results.append(
            EntityResult(
                effect,
                name_of(hass, effect.entity_id),
                state,
                _changed(effect, before.get(effect.entity_id), (state, attributes)),
                _missed(effect, attributes),
            )
        )
    return tuple(results)


def _unsettled(
    hass: HomeAssistant, effects: Iterable[Effect], before: _Snapshot
) -> set[str]:
    """Entities the call has not changed yet and that are not where it aims."""
    now = _states(hass, effects)
    waiting = set()
    for effect in effects:
        if (after := now.get(effect.entity_id)) is None:
            continue  # only reads, or no state to wait for
        if _changed(effect, before.get(effect.entity_id), after):
            continue
        goal = _GOALS.get(effect.action)
        if goal and after[0] in goal and not _missed(effect, after[1]):
            continue  # already there: nothing will change
        waiting.add(effect.entity_id)
    return waiting


async def _async_settle(
    hass: HomeAssistant, effects: Iterable[Effect], before: _Snapshot
) -> None:
    """Wait up to SETTLE_SECONDS for the targeted entities to report a change."""
    waiting = _unsettled(hass, effects, before)
    if not waiting:
        return
    settled = asyncio.Event()

    @callback
    def _on_change(event: Event[EventStateChangedData]) -> None:
        waiting.discard(event.data["entity_id"])
        if not waiting:
            settled.set()

    unsubscribe = async_track_state_change_event(hass, list(waiting), _on_change)
    try:
        async with asyncio.timeout(SETTLE_SECONDS):
            await settled.wait()
    except TimeoutError:
        pass
    finally:
        unsubscribe()


def _with_results(
    result: llm.ToolResult, entities: tuple[EntityResult, ...]
) -> llm.ToolResult:
    """Add the entities' states to the result (an intent response keeps its type)."""
    if not entities or not isinstance(result.data, dict):
        return result
    result.data["results"] = [entity.as_dict() for entity in entities]
    return result


async def async_execute(
    hass: HomeAssistant,
    api: llm.APIInstance,
    tool_input: llm.ToolInput,
    effects: tuple[Effect, ...],
    *,
    add_states: bool = True,
) -> Execution:
    """Run the call through the LLM API; an error becomes a result, never a crash.

    `add_states`: put each entity's state after the call in the result (not needed for
    a tool that reports them itself: the model would read them twice).
    """
    before = _states(hass, effects)
    error: str | None = None
    try:
        result = await api.async_call_tool(
            llm.ToolInput(
                tool_name=tool_input.tool_name,
                tool_args=tool_input.tool_args,
                id=tool_input.id,
            )
        )
    except (HomeAssistantError, vol.Invalid) as err:
        error = str(err) or type(err).__name__
        result = llm.ToolResult(
            data={"error": type(err).__name__, "error_text": error}, error=True
        )
    except Exception:
        _LOGGER.exception("The tool %s failed", tool_input.tool_name)
        error = "The tool failed unexpectedly."
        result = llm.ToolResult(
            data={"error": "ToolFailed", "error_text": error}, error=True
        )
    if result.error and error is None:
        error = _error_text(result)
    if error is None:
        await _async_settle(hass, effects, before)
    entities = _compare(hass, effects, before)
    if add_states:
        result = _with_results(result, entities)
    return Execution(result, entities, error)


def _error_text(result: llm.ToolResult) -> str:
    return str(result.data.get("error_text") or result.data.get("error") or "failed")


async def async_call_services(
    hass: HomeAssistant, effects: tuple[Effect, ...], context: Context
) -> tuple[tuple[EntityResult, ...], str | None]:
    """Carry out stored effects as the service calls they name (after a yes)."""
    before = _states(hass, effects)
    error: str | None = None
    for effect in effects:
        if not hass.services.has_service(effect.domain, effect.action):
            error = f"{effect.domain}.{effect.action} is not available"
            continue
        try:
            await hass.services.async_call(
                effect.domain,
                effect.action,
                {"entity_id": effect.entity_id, **dict(effect.data)},
                blocking=True,
                context=context,
            )
        except (HomeAssistantError, vol.Invalid) as err:
            error = str(err) or type(err).__name__
    return _compare(hass, effects, before), error
