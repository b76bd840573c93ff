"""What a person sees, in a real Chromium: from the login to a repair.

One test walks the whole way, as each step needs the one before; each step saves a
screenshot under docs/screenshots/ (the README shows them). Home Assistant runs in a
subprocess with the stand-in in demo mode (see home.py).
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from .conftest import missing
from .home import Home

if (reason := missing()) is not None:
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Page, expect

DOMAIN = "extended_ollama_conversation"
INTEGRATION = "Extended Ollama Conversation"
DARK_KITCHEN = "it is dark in the kitchen, please switch the lights off"


def log_in(page: Page, home: Home, shot: Any) -> None:
    """The login page, filled in; then the overview."""
    page.goto(home.url)
    page.get_by_role("textbox", name="Username").fill(home.username)
    page.get_by_role("textbox", name="Password").fill(home.password)
    # Its background and layout settle after the last file has loaded.
    page.wait_for_load_state("networkidle")
    shot(page, "01-login")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/home/"))


def add_integration(page: Page, home: Home, shot: Any) -> None:
    """Settings → Devices & services → Add integration → the stand-in's URL."""
    page.goto(f"{home.url}/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    page.get_by_placeholder("Search for a brand name").fill(INTEGRATION)
    page.get_by_text(INTEGRATION, exact=True).click()
    page.get_by_role("textbox", name=re.compile(r"^Server URL")).fill(home.ollama_url)
    shot(page, "02-add-integration")
    page.get_by_role("button", name="Submit").click()
    # The server's device, named after its host and port, can get an area here.
    expect(page.get_by_text("Name and assign")).to_be_visible()
    expect(page.get_by_role("textbox", name="Device name")).to_have_value(
        home.ollama_url[7:]
    )
    shot(page, "03-integration-added")
    page.get_by_role("button", name="Skip and finish").click()


def add_agent(page: Page, home: Home, shot: Any) -> None:
    """The integration's page → Add conversation agent → a model with tools."""
    page.goto(f"{home.url}/config/integrations/integration/{DOMAIN}")
    page.get_by_role("button", name="Add conversation agent").click()
    page.get_by_text("Model *").click()
    models = page.get_by_role("dialog", name="Model")
    # The server's models, each with what it can do.
    expect(models.get_by_text("demo-no-tools:latest (no tools)")).to_be_visible()
    shot(page, "04-add-agent-pick-model")
    models.get_by_text("demo-stand-in:latest (tools)").click()
    page.get_by_role("button", name="Submit").click()
    expect(
        page.get_by_text("Created configuration for Ollama Conversation")
    ).to_be_visible()
    page.get_by_role("button", name="Finish").click()
    expect(page.get_by_text("Conversation agent", exact=True)).to_be_visible()
    shot(page, "05-integration-page")


def use_in_assist(page: Page, home: Home, shot: Any) -> None:
    """Settings → Voice assistants → the Assist pipeline → its conversation agent."""
    page.goto(f"{home.url}/config/voice-assistants/assistants")
    expect(page.get_by_role("button", name="Add assistant")).to_be_visible()
    page.get_by_text("Home Assistant", exact=True).last.click()
    page.get_by_text("Conversation agent *").click()
    page.get_by_text("Ollama Conversation", exact=True).click()
    shot(page, "06-assist-pipeline")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_role("button", name="Update")).to_be_hidden()


def ask(page: Page, request: str) -> None:
    """Type a request into the open Assist dialog and send it."""
    field = page.get_by_role("textbox", name="Enter a request")
    field.fill(request)
    field.press("Enter")


def talk_to_assist(page: Page, home: Home, shot: Any) -> None:
    """The Assist dialog: the lights off (the model's path), then an unlock with a yes."""
    page.goto(f"{home.url}/home/overview")
    assert home.state("light.kitchen_lights") == "on"
    page.get_by_role("button", name=re.compile(r"^Assist\b")).click()
    ask(page, DARK_KITCHEN)
    answer = page.get_by_text("The kitchen lights are now off.")
    expect(answer).to_be_visible()
    answer.scroll_into_view_if_needed()
    assert home.state("light.kitchen_lights") == "off"
    shot(page, "07-assist-lights-off")
    ask(page, "unlock the front door")
    question = page.get_by_text("Do you want me to unlock the front door?")
    expect(question).to_be_visible()
    question.scroll_into_view_if_needed()
    assert home.state("lock.front_door") == "locked"
    shot(page, "08-assist-confirm-unlock")
    ask(page, "yes")
    # The demo lock takes two seconds to unlock.
    done = page.get_by_text("The front door is now unlocked.")
    expect(done).to_be_visible(timeout=15_000)
    done.scroll_into_view_if_needed()
    assert home.state("lock.front_door") == "unlocked"
    shot(page, "09-assist-unlocked")
    page.keyboard.press("Escape")
    expect(page.get_by_role("textbox", name="Enter a request")).to_be_hidden()
    # The kitchen's page on the overview shows the lights' new state.
    # The tile's container takes the click for its name.
    page.get_by_text("Kitchen", exact=True).first.click(force=True)
    # Its tile names the lights without the area: "Lights", "Off".
    tile = page.locator("ha-tile-info", has_text="Lights")
    expect(tile).to_contain_text("Off")
    shot(page, "09b-kitchen-after")


def server_device(page: Page, home: Home, shot: Any, *, connected: bool = True) -> None:
    """The server's device page: its connectivity and sensors."""
    page.goto(f"{home.url}/config/integrations/integration/{DOMAIN}")
    host = home.ollama_url.removeprefix("http://")
    # The entry's heading, then its device's row.
    page.get_by_text(host, exact=True).nth(1).click()
    page.wait_for_url(re.compile(r"/config/devices/device/"))
    for name in ("Server", "Ollama version", "Installed models", "Loaded models"):
        expect(page.get_by_text(name, exact=True).first).to_be_visible()
    state = "Connected" if connected else "Disconnected"
    expect(page.get_by_text(state, exact=True).first).to_be_visible()
    shot(page, "10-server-device" if connected else "13-server-stopped")


def add_agent_through_api(home: Home, name: str, model: str) -> str:
    """A second agent, added with the same flow the UI drives; its entity ID."""
    api = home.api
    assert api is not None
    entries = home.run(
        api.rest("GET", f"/api/config/config_entries/entry?domain={DOMAIN}")
    )
    flow = home.run(
        api.rest(
            "POST",
            "/api/config/config_entries/subentries/flow",
            {"handler": [entries[0]["entry_id"], "conversation"]},
        )
    )
    result = home.run(
        api.rest(
            "POST",
            f"/api/config/config_entries/subentries/flow/{flow['flow_id']}",
            {"name": name, "model": model, "llm_hass_api": [DOMAIN]},
        )
    )
    assert result["type"] == "create_entry", result
    deadline = time.monotonic() + 30
    while (agent := agent_ids(home).get(name)) is None:  # the entry reloads
        assert time.monotonic() < deadline, f"the agent {name} did not appear"
        time.sleep(0.5)
    return agent


def repair(page: Page, home: Home, shot: Any) -> None:
    """Settings → Repairs: a model without tools, and its fix flow."""
    agent = add_agent_through_api(home, "No tools", "demo-no-tools:latest")
    # A turn is what finds out (as a voice satellite would send it).
    home.ws("conversation/process", text="good morning", agent_id=agent)
    page.goto(f"{home.url}/config/repairs")
    title = "The Ollama model demo-no-tools:latest cannot control your home"
    expect(page.get_by_text(title)).to_be_visible()
    shot(page, "11-repairs")
    page.get_by_text(title).click()
    expect(page.get_by_text("Choose a model with tools for No tools")).to_be_visible()
    expect(page.get_by_text("which cannot control your home")).to_be_visible()
    shot(page, "12-repair-fix-flow")


def server_options(page: Page, home: Home, shot: Any) -> None:
    """The server's Configure form: refresh every 10 s, report it unreachable after 1 min.

    The repair's default 15 minutes is too long for this test; these are the smallest
    values a user can choose.
    """
    page.goto(f"{home.url}/config/integrations/integration/{DOMAIN}")
    # The first gear is the server entry's (each agent has its own below).
    page.get_by_role("button", name="Configure").first.click()
    expect(page.get_by_text("Server options")).to_be_visible()
    page.get_by_role("spinbutton", name=re.compile(r"^Status refresh interval")).fill(
        "10"
    )
    page.get_by_role(
        "spinbutton", name=re.compile(r"^Report the server unreachable after")
    ).fill("1")
    # The form is taller than the dialog: show the new field with its explanation.
    page.get_by_text(
        "A repair says the server is unreachable"
    ).scroll_into_view_if_needed()
    shot(page, "14-server-options")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Server options")).to_be_hidden()


def server_stopped(page: Page, home: Home, shot: Any) -> None:
    """The stand-in stops: the server's device says so at once.

    The refresh is asked for with Home Assistant's own homeassistant.update_entity
    rather than waiting for the next one; the minute before the repair counts from it.
    """
    registry = home.ws("config/entity_registry/list")
    (connectivity,) = [
        e["entity_id"]
        for e in registry
        if e["platform"] == DOMAIN and e["entity_id"].startswith("binary_sensor.")
    ]
    home.stop("stub")
    assert home.api is not None
    home.run(
        home.api.rest(
            "POST",
            "/api/services/homeassistant/update_entity",
            {"entity_id": connectivity},
        )
    )
    assert home.state(connectivity) == "off"
    server_device(page, home, shot, connected=False)


def unreachable_repair(page: Page, home: Home, shot: Any) -> None:
    """A minute later Repairs lists the server as unreachable; its text says what to do."""
    host = home.ollama_url.removeprefix("http://")
    title = page.get_by_text(f"The Ollama server {host} is unreachable")
    deadline = time.monotonic() + 180  # the repair is due about 60 s after the stop
    while True:
        page.goto(f"{home.url}/config/repairs")
        try:
            expect(title).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            assert time.monotonic() < deadline, "no unreachable repair within 3 min"
    shot(page, "15-repairs-unreachable")
    title.click()
    text = page.get_by_text("has not answered for at least 1 min")
    expect(text).to_be_visible()
    shot(page, "16-repair-unreachable")


def agent_ids(home: Home) -> dict[str, str]:
    """The integration's conversation agents: entity ID by agent name."""
    entries = home.run(
        home.api.rest(  # type: ignore[union-attr]
            "GET", f"/api/config/config_entries/entry?domain={DOMAIN}"
        )
    )
    subentries = home.ws(
        "config_entries/subentries/list", entry_id=entries[0]["entry_id"]
    )
    registry = home.ws("config/entity_registry/list")
    names = {
        sub["subentry_id"]: sub["title"]
        for sub in subentries
        if sub["subentry_type"] == "conversation"
    }
    return {
        names[e["config_subentry_id"]]: e["entity_id"]
        for e in registry
        if e["platform"] == DOMAIN
        and e.get("config_subentry_id") in names
        and e["entity_id"].startswith("conversation.")
    }


@pytest.mark.timeout(600)
def test_a_person_goes_through_the_whole_flow(
    page: Page, home: Home, shot: Any
) -> None:
    """Log in, add the integration and an agent, talk to it, see sensors and repairs."""
    log_in(page, home, shot)
    add_integration(page, home, shot)
    add_agent(page, home, shot)
    use_in_assist(page, home, shot)
    pipelines = home.ws("assist_pipeline/pipeline/list")
    preferred = next(
        p for p in pipelines["pipelines"] if p["id"] == pipelines["preferred_pipeline"]
    )
    assert preferred["conversation_engine"] == agent_ids(home)["Ollama Conversation"]
    talk_to_assist(page, home, shot)
    server_device(page, home, shot)
    repair(page, home, shot)
    server_options(page, home, shot)
    server_stopped(page, home, shot)
    unreachable_repair(page, home, shot)
