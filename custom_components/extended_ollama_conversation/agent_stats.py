"""What each agent did: today's requests and errors, the last turn, the last 10 turns.

One registry per server entry (its `runtime_data.stats`), keyed by the agent's
subentry id. Today's counters and the last turn's figures are kept in a `Store`, saved
a few seconds after a change (and when the entry unloads), so they survive a restart;
the counters start at 0 at local midnight, and after a restart on a later day. The
last turns are kept in memory for the diagnostics. Listeners (the sensors) are told
when an agent's figures change.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
import logging
from typing import Any, TypedDict

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_change
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .turn_record import OUTCOME_ERROR, TurnRecord

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
SAVE_DELAY = 10  # seconds
RECENT_TURNS = 10


@dataclass(slots=True)
class AgentFigures:
    """One agent's counters for today and its last turn's figures (None: no turn)."""

    requests: int = 0
    errors: int = 0
    response_time: float | None = None
    prompt_tokens: int | None = None
    tokens_per_second: float | None = None


class _Stored(TypedDict):
    day: str
    agents: dict[str, dict[str, Any]]


class AgentStats:
    """The agents' figures of one server entry; in memory until `async_start`."""

    def __init__(self) -> None:
        """Start empty, with today's date."""
        self._day: date = dt_util.now().date()
        self._agents: dict[str, AgentFigures] = {}
        self._recent: deque[dict[str, Any]] = deque(maxlen=RECENT_TURNS)
        self._listeners: list[Callable[[], None]] = []
        self._store: Store[_Stored] | None = None

    @property
    def day_start(self) -> datetime:
        """Local midnight at which today's counters started."""
        return dt_util.start_of_local_day(self._day)

    def figures(self, subentry_id: str) -> AgentFigures:
        """One agent's figures (zero counters if it did nothing yet)."""
        return self._agents.setdefault(subentry_id, AgentFigures())

    def counters(self) -> dict[str, dict[str, Any]]:
        """Every agent's figures by subentry id, for the diagnostics."""
        return {key: asdict(figures) for key, figures in self._agents.items()}

    def recent_turns(self) -> list[dict[str, Any]]:
        """The last turns' figures, oldest first (text only where the agent allows)."""
        return [dict(turn) for turn in self._recent]

    async def async_start(
        self, hass: HomeAssistant, entry_id: str, subentry_ids: Iterable[str]
    ) -> Callable[[], Coroutine[Any, Any, None]]:
        """Read the stored figures, reset at midnight; returns what stops and saves."""
        self._store = Store(hass, STORAGE_VERSION, storage_key(entry_id))
        stored = await self._store.async_load()
        if stored is not None:
            self._restore(stored, set(subentry_ids))
        unsub = async_track_time_change(
            hass, self._async_midnight, hour=0, minute=0, second=0
        )

        async def _async_stop() -> None:
            unsub()
            if self._store is not None:
                await self._store.async_save(self._data())

        return _async_stop

    @callback
    def async_listen(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `listener` whenever any agent's figures change."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def async_add_turn(self, record: TurnRecord) -> None:
        """Count a finished turn and keep its figures."""
        self._roll_over()
        figures = self.figures(record.subentry_id)
        figures.requests += 1
        if record.outcome == OUTCOME_ERROR:
            figures.errors += 1
        figures.response_time = round(record.duration, 3)
        if record.reached_model:
            figures.prompt_tokens = record.prompt_tokens
            if (speed := record.tokens_per_second) is not None:
                figures.tokens_per_second = round(speed, 2)
        self._recent.append({"started": record.started.isoformat(), **record.figures()})
        self._changed()

    def _roll_over(self) -> bool:
        """Start today's counters at 0 if the day changed; True if it did."""
        today = dt_util.now().date()
        if today == self._day:
            return False
        self._day = today
        for figures in self._agents.values():
            figures.requests = figures.errors = 0
        return True

    @callback
    def _async_midnight(self, _now: datetime) -> None:
        if self._roll_over():
            self._changed()

    def _changed(self) -> None:
        if self._store is not None:
            self._store.async_delay_save(self._data, SAVE_DELAY)
        for listener in list(self._listeners):
            listener()

    def _data(self) -> _Stored:
        return {
            "day": self._day.isoformat(),
            "agents": self.counters(),
        }

    def _restore(self, stored: _Stored, subentry_ids: set[str]) -> None:
        """Take the stored figures of agents that still exist; old counters are 0."""
        try:
            day = date.fromisoformat(stored["day"])
            agents = {
                key: AgentFigures(**values)
                for key, values in stored["agents"].items()
                if key in subentry_ids
            }
        except (KeyError, TypeError, ValueError) as err:
            _LOGGER.warning("The agents' stored figures could not be read: %s", err)
            return
        self._day, self._agents = day, agents
        self._roll_over()


def storage_key(entry_id: str) -> str:
    """Where one server entry's agent figures are stored."""
    return f"{DOMAIN}.agent_stats.{entry_id}"


async def async_remove_stats(hass: HomeAssistant, entry_id: str) -> None:
    """The server entry was deleted: its agents' stored figures go with it."""
    store: Store[_Stored] = Store(hass, STORAGE_VERSION, storage_key(entry_id))
    await store.async_remove()
