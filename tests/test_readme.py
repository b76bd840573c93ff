"""The README's YAML examples are valid for Home Assistant, as a reader would paste them.

Each block is validated by Home Assistant itself: an automation as the automation editor
would save it, actions as a script's, and the data of this integration's actions and of
`conversation.process` and `ai_task.generate_data` against the services' own schemas.
"""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any

from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.script import async_validate_actions_config
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import parse_yaml
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import DOMAIN

from .conftest import AGENT_ID, TASK_ID

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", README, flags=re.DOTALL)
CHECKED_SERVICES = {DOMAIN, "conversation", "ai_task"}


def _examples() -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """The automations, and the action sequences; the own-tools list is tested elsewhere."""
    automations: list[dict[str, Any]] = []
    sequences: list[list[dict[str, Any]]] = []
    for block in BLOCKS:
        data = parse_yaml(block)
        if isinstance(data, list):
            assert all("kind" in tool for tool in data), block  # your own tools
        elif "automation" in data:
            automations.extend(data["automation"])
        elif "triggers" in data:
            automations.append(data)
        elif "actions" in data:
            sequences.append(data["actions"])
        else:
            assert "action" in data, block
            sequences.append([data])
    return automations, sequences


def _steps(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The action steps, also those inside an if/then."""
    steps = []
    for action in actions:
        steps.append(action)
        for branch in ("then", "else"):
            steps.extend(_steps(action.get(branch, [])))
    return steps


async def test_the_readmes_yaml_examples_are_valid(
    hass: HomeAssistant, agent_entry: MockConfigEntry
) -> None:
    """Automations, actions, and the data of the services they call."""
    assert await async_setup_component(hass, "ai_task", {})
    automations, sequences = _examples()
    assert len(automations) >= 2
    assert len(sequences) >= 6
    for automation in automations:
        assert await async_validate_config_item(hass, "id", automation)
        sequences.append(automation["actions"])
    services = hass.services.async_services()
    called = set()
    for sequence in sequences:
        await async_validate_actions_config(hass, cv.SCRIPT_SCHEMA(sequence))
        for step in _steps(sequence):
            if "action" not in step:
                continue
            domain, service = step["action"].split(".")
            if domain not in CHECKED_SERVICES:
                continue
            called.add(step["action"])
            schema = services[domain][service].schema
            assert schema is not None
            data = schema(step.get("data", {}))
            for key in ("agent", "agent_id", "entity_id"):
                if key in data:
                    assert data[key] in (AGENT_ID, TASK_ID), data[key]
    assert called >= {
        f"{DOMAIN}.generate",
        f"{DOMAIN}.memory_list",
        f"{DOMAIN}.memory_forget",
        "conversation.process",
        "ai_task.generate_data",
    }


def test_the_contents_link_to_sections_that_exist() -> None:
    """Every #anchor in the README names one of its headings."""
    slugs = {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", README, flags=re.MULTILINE)
    }
    for anchor in re.findall(r"\]\(#([\w-]+)\)", README):
        assert anchor in slugs, anchor
