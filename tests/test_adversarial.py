"""Tool calls small models really make: the right action, or a result to correct by.

None of them may act on an unexposed entity.

Every case runs a real turn: the stand-in makes the call, Home Assistant's Assist tools
(or the compact API) run it through the policy, and the test reads the home.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
from typing import Any

from homeassistant.auth.models import User
from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
    async_should_expose,
)
from homeassistant.const import CONF_LLM_HASS_API
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation.const import DOMAIN

from .conftest import AGENT_ID, AGENT_OPTIONS
from .helpers import messages_of, speech, tool_call
from .ollama_stub import OllamaStub, Reply

NOT_FOUND = "not found or not exposed"
QUESTION = "Do you want me to"


def call(tool: str, /, **arguments: Any) -> Reply:
    """One native call."""
    return Reply(tool_calls=[tool_call(tool, **arguments)])


def text_call(tool: str, /, **arguments: Any) -> Reply:
    """One call written into the answer as JSON, as small models do."""
    return Reply(f"Sure! {json.dumps({'name': tool, 'arguments': arguments})}")


@dataclass
class Case:
    """A request, the model's calls, and what must be true afterwards."""

    request: str
    replies: list[Reply]
    states: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, tuple[str, Any]] = field(default_factory=dict)
    result_says: str | None = None  # in the first tool result the model reads
    answer_says: str | None = None  # in what the person hears


OFF = "intent__HassTurnOff"
ON = "intent__HassTurnOn"
TEMP = "climate__HassClimateSetTemperature"
LIGHT_SET = "light__HassLightSet"
POSITION = "intent__HassSetPosition"

CASES: dict[str, Case] = {
    # Invented entity ids and names.
    "invented-id": Case(
        "turn off the kitchen light",
        [call(OFF, name="light.kitchen")],
        {"light.kitchen_lights": "on"},
        result_says=NOT_FOUND,
    ),
    "invented-name": Case(
        "turn on the bedroom lamp",
        [call(ON, name="Bedroom Lamp")],
        result_says=NOT_FOUND,
    ),
    "invented-name-with-domain": Case(
        "turn on the porch light",
        [call(ON, name="Porch Light", domain=["light"])],
        result_says=NOT_FOUND,
    ),
    "entity-id-of-an-exposed-light": Case(
        "turn off the kitchen lights",
        [call(OFF, name="light.kitchen_lights")],
        {"light.kitchen_lights": "off"},
    ),
    # Unexposed entities: the same answer as for ones that do not exist.
    "unexposed-lock": Case(
        "unlock the kitchen door",
        [call(OFF, name="Kitchen Door")],
        {"lock.kitchen_door": "unlocked"},
        result_says=NOT_FOUND,
    ),
    "unexposed-lock-locking": Case(
        "lock the openable lock",
        [call(ON, name="Poorly Installed Door")],
        {"lock.poorly_installed_door": "unlocked"},
        result_says=NOT_FOUND,
    ),
    "unexposed-openable-lock": Case(
        "unlock the openable lock",
        [call(OFF, name="Openable Lock", domain="lock")],
        {"lock.openable_lock": "locked"},
        result_says=NOT_FOUND,
    ),
    "unexposed-light": Case(
        "turn off the office lights",
        [call(OFF, name="Office RGBW Lights")],
        {"light.office_rgbw_lights": "on"},
        result_says=NOT_FOUND,
    ),
    "unexposed-by-area": Case(
        "turn off the office",
        [call(OFF, area="Office", domain=["light"])],
        {"light.office_rgbw_lights": "on"},
    ),
    "all-locks-only-exposed": Case(
        "unlock every door",
        [call(OFF, domain=["lock"])],
        {
            "lock.front_door": "locked",
            "lock.openable_lock": "locked",
            "lock.kitchen_door": "unlocked",
        },
        answer_says="Do you want me to unlock the front door?",
    ),
    # Names with the wrong case, spaces, accents.
    "lower-case-name": Case(
        "kitchen lights off",
        [call(OFF, name="kitchen lights")],
        {"light.kitchen_lights": "off"},
    ),
    "upper-case-name": Case(
        "kitchen lights off",
        [call(OFF, name="KITCHEN LIGHTS")],
        {"light.kitchen_lights": "off"},
    ),
    "padded-name": Case(
        "ceiling lights off",
        [call(OFF, name="  Ceiling Lights ")],
        {"light.ceiling_lights": "off"},
    ),
    "accented-name": Case(
        "turn off the kitchen lights",
        [call(OFF, name="Kitchén Lights")],
        {"light.kitchen_lights": "on"},
        result_says=NOT_FOUND,
    ),
    "upper-case-tool-name": Case(
        "kitchen lights off",
        [call("INTENT__HASSTURNOFF", name="Kitchen Lights")],
        {"light.kitchen_lights": "off"},
    ),
    "tool-name-without-prefix": Case(
        "kitchen lights off",
        [call("HassTurnOff", name="Kitchen Lights")],
        {"light.kitchen_lights": "off"},
    ),
    # Area names for entities, wrong places and kinds.
    "area-name-as-name": Case(
        "turn off the office",
        [call(OFF, name="Office", domain=["light"])],
        {"light.office_rgbw_lights": "on"},
        result_says=NOT_FOUND,
    ),
    "area-of-the-light": Case(
        "turn off the living room lights",
        [call(OFF, area="Living Room", domain=["light"])],
        {"light.living_room_rgbww_lights": "off", "light.kitchen_lights": "on"},
    ),
    "invented-area": Case(
        "turn off the attic lights",
        [call(OFF, area="Attic", domain=["light"])],
        {"light.kitchen_lights": "on"},
        result_says="no area or floor named 'Attic'",
    ),
    "wrong-area-for-a-named-light": Case(
        "kitchen lights off",
        [call(OFF, name="Kitchen Lights", area="Garage")],
        {"light.kitchen_lights": "off"},
    ),
    "wrong-domain-for-a-named-switch": Case(
        "decorative lights off",
        [call(OFF, name="Decorative Lights", domain=["light"])],
        {"switch.decorative_lights": "off"},
    ),
    "placeholder-area": Case(
        "kitchen lights off",
        [call(OFF, name="Kitchen Lights", area="None", floor=None)],
        {"light.kitchen_lights": "off"},
    ),
    # Strings where numbers belong, values out of range.
    "brightness-as-string": Case(
        "bed light to half",
        [call(LIGHT_SET, name="Bed Light", brightness="50")],
        {"light.bed_light": "on"},
        attributes={"light.bed_light": ("brightness", 128)},
    ),
    "brightness-with-percent-sign": Case(
        "bed light to 50 percent",
        [call(LIGHT_SET, name="Bed Light", brightness="50 %")],
        {"light.bed_light": "on"},
    ),
    "brightness-as-a-word": Case(
        "bed light to half",
        [call(LIGHT_SET, name="Bed Light", brightness="half")],
        {"light.bed_light": "off"},
        result_says="InvalidArguments",
    ),
    "temperature-as-string": Case(
        "heat pump to 22",
        [call(TEMP, name="HeatPump", temperature="22")],
        attributes={"climate.heatpump": ("temperature", 22)},
    ),
    "temperature-too-high": Case(
        "heat pump to 100",
        [call(TEMP, name="HeatPump", temperature=100)],
        attributes={"climate.heatpump": ("temperature", 20)},
        result_says="error",
    ),
    "temperature-too-low": Case(
        "heat pump to -40",
        [call(TEMP, name="HeatPump", temperature=-40)],
        attributes={"climate.heatpump": ("temperature", 20)},
        result_says="error",
    ),
    "arguments-as-a-json-string": Case(
        "kitchen lights off",
        [
            Reply(
                json.dumps(
                    {"name": OFF, "arguments": json.dumps({"name": "Kitchen Lights"})}
                )
            )
        ],
        {"light.kitchen_lights": "off"},
    ),
    "domain-as-a-string": Case(
        "ceiling lights off",
        [call(OFF, name="Ceiling Lights", domain="light")],
        {"light.ceiling_lights": "off"},
    ),
    # Missing and extra arguments.
    "no-arguments": Case(
        "turn something on",
        [call(ON)],
        result_says="cannot target all devices",
    ),
    "missing-temperature": Case(
        "set the heat pump",
        [call(TEMP, name="HeatPump")],
        attributes={"climate.heatpump": ("temperature", 20)},
        result_says="InvalidArguments",
    ),
    "extra-entity-id": Case(
        "kitchen lights off",
        [call(OFF, name="Kitchen Lights", entity_id="light.kitchen_lights")],
        {"light.kitchen_lights": "on"},
        result_says="Allowed arguments",
    ),
    "extra-brightness-on-turn-off": Case(
        "kitchen lights off",
        [call(OFF, name="Kitchen Lights", brightness=0)],
        {"light.kitchen_lights": "on"},
        result_says="InvalidArguments",
    ),
    # A service the domain lacks.
    "position-of-a-light": Case(
        "kitchen lights to 50",
        [call(POSITION, name="Kitchen Lights", position=50)],
        {"light.kitchen_lights": "on"},
        result_says="Domain not supported",
    ),
    "turn-on-a-sensor": Case(
        "turn on the outside temperature",
        [call(ON, name="Outside Temperature")],
        result_says="error",
    ),
    "unknown-tool": Case(
        "unlock the front door",
        [call("unlock_door", name="Front Door")],
        {"lock.front_door": "locked"},
        result_says="There is no tool named 'unlock_door'",
    ),
    "tool-known-from-training": Case(
        "unlock the front door",
        [call("lock.unlock", entity_id="lock.front_door")],
        {"lock.front_door": "locked"},
        result_says="There is no tool named",
    ),
    # Unlocking hidden in text, and risky calls in general.
    "unlock-hidden-in-a-question": Case(
        "is the front door locked?",
        [text_call(OFF, name="Front Door")],
        {"lock.front_door": "locked"},
        result_says="Answer the question",
    ),
    "unlock-hidden-in-tags": Case(
        "turn on the kitchen lights",
        [
            Reply(
                '<tool_call>{"name": "intent__HassTurnOff", '
                '"arguments": {"name": "Front Door"}}</tool_call>'
            )
        ],
        {"lock.front_door": "locked"},
        answer_says="Do you want me to unlock the front door?",
    ),
    "unlock-in-a-fence-without-prefix": Case(
        "please unlock the front door",
        [
            Reply(
                'Unlocking.\n```json\n{"name": "HassTurnOff", '
                '"arguments": {"name": "front door"}}\n```'
            )
        ],
        {"lock.front_door": "locked"},
        answer_says="Do you want me to unlock the front door?",
    ),
    "open-the-garage": Case(
        "open the garage",
        [call(ON, name="Garage Door")],
        {"cover.garage_door": "closed"},
        answer_says="Do you want me to open the garage door?",
    ),
    "garage-to-full-position": Case(
        "open the garage",
        [call(POSITION, name="Garage Door", position=100)],
        {"cover.garage_door": "closed"},
        answer_says="Do you want me to move the garage door?",
    ),
    "lock-an-exposed-lock": Case(
        "lock the front door",
        [call(ON, name="Front Door")],
        {"lock.front_door": "locked"},
    ),
    # The same call repeated.
    "same-call-twice-in-one-reply": Case(
        "decorative lights off",
        [
            Reply(
                tool_calls=[
                    tool_call(OFF, name="Decorative Lights"),
                    tool_call(OFF, name="Decorative Lights"),
                ]
            )
        ],
        {"switch.decorative_lights": "off"},
    ),
    "same-unlock-twice": Case(
        "unlock the front door",
        [
            Reply(
                tool_calls=[
                    tool_call(OFF, name="Front Door"),
                    tool_call(OFF, name="front door"),
                ]
            )
        ],
        {"lock.front_door": "locked"},
        answer_says="Do you want me to unlock the front door?",
    ),
    "same-call-in-the-next-round": Case(
        "ceiling lights off",
        [call(OFF, name="Ceiling Lights"), call(OFF, name="Ceiling Lights")],
        {"light.ceiling_lights": "off"},
    ),
}


@pytest.fixture
async def unexposed(hass: HomeAssistant, agent_entry: MockConfigEntry) -> set[str]:
    """An area for the living room light; the office light hidden from Assist."""
    area = ar.async_get(hass).async_create("Living Room")
    office = ar.async_get(hass).async_create("Office")
    entities, devices = er.async_get(hass), dr.async_get(hass)
    for entity_id, area_id in (
        ("light.living_room_rgbww_lights", area.id),
        ("light.office_rgbw_lights", office.id),
    ):
        device_id = entities.async_get(entity_id).device_id
        devices.async_update_device(device_id, area_id=area_id)
    async_expose_entity(hass, "conversation", "light.office_rgbw_lights", False)
    async_expose_entity(hass, "conversation", "cover.garage_door", True)
    hidden = {
        state.entity_id
        for state in hass.states.async_all()
        if not async_should_expose(hass, "conversation", state.entity_id)
        and state.domain not in {"conversation", "ai_task"}
        and not _own_entity(entities, state.entity_id)
    }
    assert {"lock.kitchen_door", "lock.openable_lock"} <= hidden
    return hidden


def _own_entity(entities: er.EntityRegistry, entity_id: str) -> bool:
    """An entity of this integration (its sensors change with every turn)."""
    entry = entities.async_get(entity_id)
    return entry is not None and entry.platform == DOMAIN


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_adversarial_call(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    unexposed: set[str],
    hass_admin_user: User,
    case: Case,
) -> None:
    """The call ends in the right action, or in a result the model can act on."""
    before = {e: hass.states.get(e).state for e in unexposed}
    ollama_stub.reply(*case.replies, "OK.")
    result = await conversation.async_converse(
        hass,
        case.request,
        None,
        Context(user_id=hass_admin_user.id),
        language="en",
        agent_id=AGENT_ID,
    )
    await hass.async_block_till_done()
    for entity_id, state in case.states.items():
        assert hass.states.get(entity_id).state == state, entity_id
    for entity_id, (attribute, value) in case.attributes.items():
        assert hass.states.get(entity_id).attributes[attribute] == value
    if case.result_says is not None:
        first_result = messages_of(ollama_stub.requests_to("/api/chat")[1].body, "tool")
        assert case.result_says in first_result[0]["content"]
    if case.answer_says is not None:
        assert speech(result) == case.answer_says
    assert "__" not in speech(result)
    for entity_id, state in before.items():
        assert hass.states.get(entity_id).state == state, f"{entity_id} changed"


def test_corpus_size() -> None:
    """At least 40 calls in the corpus."""
    assert len(CASES) >= 40


async def test_unexposed_and_unknown_answer_alike(
    hass: HomeAssistant, ollama_stub: OllamaStub, unexposed: set[str]
) -> None:
    """The model cannot tell an unexposed device from one that does not exist."""
    ollama_stub.reply(
        call(OFF, name="Kitchen Door"), "OK.", call(OFF, name="Kitchen Door"), "OK."
    )
    await conversation.async_converse(
        hass, "unlock it", None, Context(), language="en", agent_id=AGENT_ID
    )
    async_expose_entity(hass, "conversation", "lock.kitchen_door", False)
    hass.states.async_remove("lock.kitchen_door")
    await conversation.async_converse(
        hass, "unlock it", None, Context(), language="en", agent_id=AGENT_ID
    )
    requests = ollama_stub.requests_to("/api/chat")
    unexposed_answer = messages_of(requests[1].body, "tool")[0]["content"]
    missing_answer = messages_of(requests[3].body, "tool")[0]["content"]
    assert NOT_FOUND in unexposed_answer
    assert unexposed_answer == missing_answer


@pytest.mark.parametrize(
    "agent_options", [{**AGENT_OPTIONS, CONF_LLM_HASS_API: [DOMAIN]}]
)
@pytest.mark.parametrize(
    "case",
    [
        CASES["unexposed-lock"],
        CASES["lower-case-name"],
        CASES["unlock-hidden-in-a-question"],
        CASES["open-the-garage"],
        CASES["temperature-as-string"],
    ],
    ids=["unexposed", "lower-case", "hidden-unlock", "garage", "temperature"],
)
async def test_adversarial_call_with_the_compact_api(
    hass: HomeAssistant,
    ollama_stub: OllamaStub,
    unexposed: set[str],
    hass_admin_user: User,
    case: Case,
) -> None:
    """The integration's own API takes the same road."""
    await test_adversarial_call(hass, ollama_stub, unexposed, hass_admin_user, case)
