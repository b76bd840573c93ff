"""Prepare the development Home Assistant that scripts/develop started.

Through Home Assistant's own REST and websocket APIs, as a person would through the UI:
finish onboarding (or log in), put the demo's devices in areas and expose them to Assist,
and add this integration's server entry for the given Ollama URL.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import sys
import time
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from custom_components.extended_ollama_conversation.client import (
    display_host,
    normalize_url,
)

DOMAIN = "extended_ollama_conversation"
USERNAME = "dev"
PASSWORD = "dev-password"  # noqa: S105 - a local development login, printed on purpose

# Which area each demo entity goes in, by a word in its entity ID.
AREAS = {
    "kitchen": "Kitchen",
    "living_room": "Living Room",
    "bed": "Bedroom",
    "office": "Office",
    "garage": "Garage",
    "entrance": "Hallway",
    "hall": "Hallway",
    "front_door": "Hallway",
    "ceiling": "Living Room",
    "hvac": "Living Room",
    "ecobee": "Bedroom",
    "heatpump": "Office",
    "outside": "Garden",
}
EXPOSED_DOMAINS = (
    "light", "switch", "lock", "climate", "cover", "media_player", "sensor",
    "binary_sensor", "fan", "alarm_control_panel", "valve", "vacuum", "water_heater",
)  # fmt: skip


class CommandFailed(Exception):
    """A websocket command was refused."""


class HomeAssistantAPI:
    """The few REST and websocket calls this script needs."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        """Talk to Home Assistant at `base`."""
        self.session = session
        self.base = base
        self.client_id = f"{base}/"
        self.token = ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._next_id = 1

    async def wait_until_up(self, seconds: float = 300) -> None:
        """Wait for the frontend, which comes after onboarding and the API.

        Its manifest needs no login: asking the API without one would leave a
        "Login attempt failed" notification for the person who logs in.
        """
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                async with self.session.get(f"{self.base}/manifest.json") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(1)
        raise SystemExit("Home Assistant did not start; see its log above")

    async def log_in(self) -> None:
        """Create the owner on first start (onboarding), else log in with the password."""
        async with self.session.get(f"{self.base}/api/onboarding") as response:
            # Once onboarding is complete its API is gone (404).
            done = response.status == 404
            steps = (
                {} if done else {s["step"]: s["done"] for s in await response.json()}
            )
        if not steps.get("user", True):
            code = (
                await self._post(
                    "/api/onboarding/users",
                    {
                        "client_id": self.client_id,
                        "name": "Developer",
                        "username": USERNAME,
                        "password": PASSWORD,
                        "language": "en",
                    },
                    auth=False,
                )
            )["auth_code"]
        else:
            flow = await self._post(
                "/auth/login_flow",
                {
                    "client_id": self.client_id,
                    "handler": ["homeassistant", None],
                    "redirect_uri": self.client_id,
                },
                auth=False,
            )
            code = (
                await self._post(
                    f"/auth/login_flow/{flow['flow_id']}",
                    {
                        "client_id": self.client_id,
                        "username": USERNAME,
                        "password": PASSWORD,
                    },
                    auth=False,
                )
            )["result"]
        async with self.session.post(
            f"{self.base}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.client_id,
            },
        ) as response:
            response.raise_for_status()
            self.token = (await response.json())["access_token"]
        for step, body in (
            ("core_config", {}),
            ("analytics", {}),
            (
                "integration",
                {"client_id": self.client_id, "redirect_uri": self.client_id},
            ),
        ):
            if not steps.get(step, True):
                await self._post(f"/api/onboarding/{step}", body)

    async def _post(self, path: str, body: dict[str, Any], *, auth: bool = True) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        async with self.session.post(
            f"{self.base}{path}", json=body, headers=headers
        ) as response:
            if response.status >= 400:
                raise SystemExit(
                    f"{path} answered {response.status}: {await response.text()}"
                )
            return await response.json()

    async def rest(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> Any:
        """Call the REST API as the logged-in user."""
        async with self.session.request(
            method,
            f"{self.base}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
        ) as response:
            if response.status >= 400:
                raise SystemExit(
                    f"{path} answered {response.status}: {await response.text()}"
                )
            return await response.json()

    async def ws(self, command: str, **fields: Any) -> Any:
        """Send one websocket command and return its result."""
        if self._ws is None:
            self._ws = await self.session.ws_connect(f"{self.base}/api/websocket")
            await self._ws.receive_json()
            await self._ws.send_json({"type": "auth", "access_token": self.token})
            if (await self._ws.receive_json())["type"] != "auth_ok":
                raise SystemExit("websocket login failed")
        message_id, self._next_id = self._next_id, self._next_id + 1
        await self._ws.send_json({"id": message_id, "type": command, **fields})
        while (reply := await self._ws.receive_json())["id"] != message_id:
            pass
        if not reply["success"]:
            raise CommandFailed(f"{command} failed: {reply['error']['message']}")
        return reply["result"]

    async def close(self) -> None:
        """Close the websocket."""
        if self._ws is not None:
            await self._ws.close()


async def arrange_demo_home(api: HomeAssistantAPI) -> int:
    """Put the demo's entities in areas and expose them to Assist; return how many."""
    deadline = time.monotonic() + 120
    entities: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        entities = await api.ws("config/entity_registry/list")
        if any(e["entity_id"] == "light.kitchen_lights" for e in entities):
            break
        await asyncio.sleep(1)
    registry = await api.ws("config/area_registry/list")
    areas = {area["name"]: area["area_id"] for area in registry}
    for name in sorted(set(AREAS.values()) - set(areas)):
        created = await api.ws("config/area_registry/create", name=name)
        areas[name] = created["area_id"]
    exposed = []
    placed_devices: set[str] = set()
    for entity in entities:
        entity_id: str = entity["entity_id"]
        if entity["platform"] != "demo" or not entity_id.startswith(EXPOSED_DOMAINS):
            continue
        exposed.append(entity_id)
        area = next((a for word, a in AREAS.items() if word in entity_id), None)
        if area is None:
            continue
        try:
            # An entity named after its device takes the device's area.
            if device_id := entity.get("device_id"):
                if device_id not in placed_devices:
                    placed_devices.add(device_id)
                    await api.ws(
                        "config/device_registry/update",
                        device_id=device_id,
                        area_id=areas[area],
                    )
            elif entity.get("area_id") != areas[area]:
                await api.ws(
                    "config/entity_registry/update",
                    entity_id=entity_id,
                    area_id=areas[area],
                )
        except CommandFailed as err:
            print(f"develop: {entity_id} stays without an area: {err}", flush=True)
    # Demo entities without a unique ID (the front door's lock) are not in the registry.
    registered = {entity["entity_id"] for entity in entities}
    exposed += [
        state["entity_id"]
        for state in await api.rest("GET", "/api/states")
        if state["entity_id"].startswith(tuple(f"{d}." for d in EXPOSED_DOMAINS))
        and state["entity_id"] not in registered
    ]
    await api.ws(
        "homeassistant/expose_entity",
        assistants=["conversation"],
        entity_ids=exposed,
        should_expose=True,
    )
    return len(exposed)


async def add_server_entry(api: HomeAssistantAPI, url: str) -> tuple[str, str]:
    """Make sure exactly one server entry points at `url`; return its ID and state."""
    for entry in await api.rest(
        "GET", f"/api/config/config_entries/entry?domain={DOMAIN}"
    ):
        # The entry's title is the server's host:port (see the config flow).
        if entry["title"] == display_host(normalize_url(url)):
            break
        await api.rest(
            "DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}"
        )
    else:
        flow = await api.rest(
            "POST", "/api/config/config_entries/flow", {"handler": DOMAIN}
        )
        result = await api.rest(
            "POST",
            f"/api/config/config_entries/flow/{flow['flow_id']}",
            {"url": url, "verify_ssl": True, "timeout": 60},
        )
        if result["type"] != "create_entry":
            raise SystemExit(f"Adding the Ollama server failed: {result.get('errors')}")
    deadline = time.monotonic() + 60
    entries: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        entries = await api.rest(
            "GET", f"/api/config/config_entries/entry?domain={DOMAIN}"
        )
        if entries and entries[0]["state"] in ("loaded", "setup_error"):
            break
        await asyncio.sleep(1)
    if not entries:
        return "", "missing"
    return entries[0]["entry_id"], entries[0]["state"]


async def add_agent(api: HomeAssistantAPI, entry_id: str) -> str:
    """Add a conversation agent (first model with tools) unless there is one; return it."""
    subentries = await api.ws("config_entries/subentries/list", entry_id=entry_id)
    if not any(sub["subentry_type"] == "conversation" for sub in subentries):
        flow = await api.rest(
            "POST",
            "/api/config/config_entries/subentries/flow",
            {"handler": [entry_id, "conversation"]},
        )
        field = next(f for f in flow["data_schema"] if f["name"] == "model")
        models = field["selector"]["select"]["options"]
        if not models:
            raise SystemExit("The Ollama server has no models: pull one first")
        result = await api.rest(
            "POST",
            f"/api/config/config_entries/subentries/flow/{flow['flow_id']}",
            {
                "name": "Ollama Conversation",  # the default: conversation.ollama_conversation
                "model": models[0]["value"],
                "llm_hass_api": [DOMAIN],
                "prefer_local": True,
                "num_ctx": 8192,
                "keep_alive": -1,
                "think": False,
                "max_history": 20,
                "max_tool_iterations": 6,
            },
        )
        if result["type"] != "create_entry":
            raise SystemExit(f"Adding the agent failed: {result}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        registry = await api.ws("config/entity_registry/list")
        agents = [
            e["entity_id"]
            for e in registry
            if e["platform"] == DOMAIN and e["entity_id"].startswith("conversation.")
        ]
        if agents:
            return agents[0]
        await asyncio.sleep(1)
    raise SystemExit("The conversation agent did not appear")


async def use_in_assist(api: HomeAssistantAPI, agent_id: str) -> None:
    """Make the agent the conversation engine of the preferred Assist pipeline."""
    listed = await api.ws("assist_pipeline/pipeline/list")
    preferred = next(
        p for p in listed["pipelines"] if p["id"] == listed["preferred_pipeline"]
    )
    if preferred["conversation_engine"] == agent_id:
        return
    fields = {k: v for k, v in preferred.items() if k != "id"}
    await api.ws(
        "assist_pipeline/pipeline/update",
        pipeline_id=preferred["id"],
        **{**fields, "conversation_engine": agent_id},
    )


async def main() -> None:
    """Prepare Home Assistant and print how to log in."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--ha", default="http://127.0.0.1:8123")
    parser.add_argument("--ollama-url", required=True)
    args = parser.parse_args()
    async with aiohttp.ClientSession() as session:
        api = HomeAssistantAPI(session, args.ha)
        await api.wait_until_up()
        await api.log_in()
        exposed = await arrange_demo_home(api)
        entry_id, state = await add_server_entry(api, args.ollama_url)
        agent = ""
        if state == "loaded":
            agent = await add_agent(api, entry_id)
            await use_in_assist(api, agent)
        await api.close()
    print(
        f"\n  Home Assistant: http://localhost:8123   login: {USERNAME} / {PASSWORD}\n"
        f"  Demo home: {exposed} entities exposed to Assist, in areas.\n"
        f"  Ollama server entry for {args.ollama_url}: {state}\n"
        f"  Conversation agent {agent}, used by the Assist pipeline.\n"
        "  Press Ctrl-C to stop.\n",
        flush=True,
    )
    if state != "loaded":
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
