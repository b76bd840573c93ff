"""The state-context builder: what the model is told about the home, in few tokens.

Only entities exposed to Assist are described. The text has two parts:

- `directory`, which does not depend on states or on the request: every listed device by
  floor and area, grouped by kind. Its order is fixed, so Ollama's prompt cache reuses it
  from one turn to the next. In a home too large for the budget, the devices that matter
  least (sensors before lights and locks) are left out of it, the same ones every turn.
- `current`, which changes: the devices the request names or most likely concerns that
  the directory left out, and the states of the most relevant devices. It goes last.

Whatever is left out stays reachable through the integration's device-lookup tool.

The modules, one job each: `devices` (a device and the words that name it), `index`
(the registries read into the device index, kept until they change; recent changes),
`ranking` (a request's relevance and the word, kind and area positions behind it),
`rendering` (directory, current states, `describe_state`, `clean`), `lookup`
(`find_devices`), and `builder` (`build_context`, which puts them together).
"""

from .builder import DEFAULT_STATE_LINES, HomeContext, build_context
from .devices import DOMAIN_ORDER, DOMAIN_WORDS, Device
from .index import (
    ASSISTANT,
    DATA_DEVICE_INDEX,
    MAX_RECENT,
    DeviceIndex,
    area_of_requester,
    device_index,
)
from .lookup import MIN_SIMILARITY, find_devices
from .ranking import (
    MIN_EXTRA_SCORE,
    NAMED,
    RECENT_POINTS,
    SEMANTIC_WEIGHT,
    DevicePositions,
    relevance,
)
from .rendering import MAX_NAME, clean, describe_state, render_current, render_directory

__all__ = [
    "ASSISTANT",
    "DATA_DEVICE_INDEX",
    "DEFAULT_STATE_LINES",
    "DOMAIN_ORDER",
    "DOMAIN_WORDS",
    "MAX_NAME",
    "MAX_RECENT",
    "MIN_EXTRA_SCORE",
    "MIN_SIMILARITY",
    "NAMED",
    "RECENT_POINTS",
    "SEMANTIC_WEIGHT",
    "Device",
    "DeviceIndex",
    "DevicePositions",
    "HomeContext",
    "area_of_requester",
    "build_context",
    "clean",
    "describe_state",
    "device_index",
    "find_devices",
    "relevance",
    "render_current",
    "render_directory",
]
