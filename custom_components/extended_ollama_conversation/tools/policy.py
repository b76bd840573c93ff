"""The one gate every tool call passes: exposure, questions, users, confirmation.

The decision is made from the call's resolved targets (`resolve_effects`) and from who
asked what (`Request`), never from what the model says about them. Every tool, native
or written as text, Assist's or this integration's own, takes this road.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from homeassistant.components.conversation import DOMAIN as CONVERSATION_DOMAIN
from homeassistant.components.cover import CoverDeviceClass
from homeassistant.const import ATTR_DEVICE_CLASS
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import intent, llm

from ..const import (
    CONF_ALLOW_RISKY_WITHOUT_USER,
    CONF_CONFIRM_DOMAINS,
    CONF_CONFIRM_ENTITIES,
    CONF_CONFIRM_SERVICES,
    CONF_NON_ADMIN_ACCESS,
    CONF_NON_ADMIN_DOMAINS,
    DEFAULT_ALLOW_RISKY_WITHOUT_USER,
    DEFAULT_NON_ADMIN_ACCESS,
    NON_ADMIN_DOMAINS,
    NON_ADMIN_READ_ONLY,
)
from .effects import READ, Effect, EffectfulTool
from .wording import NOT_FOUND

NOT_FOUND_HINT = " Use a device name from the list you were given, or look it up first."
# Slots of Assist's intents that select targets rather than carry data.
_TARGET_SLOTS = frozenset(
    {"name", "area", "floor", "domain", "device_class", "preferred_area_id"}
    | {"preferred_floor_id"}
)
# Failures that would tell an unexposed device from one that does not exist.
_HIDDEN_REASONS = frozenset(
    {
        intent.MatchFailedReason.NAME,
        intent.MatchFailedReason.ASSISTANT,
        intent.MatchFailedReason.AREA,
        intent.MatchFailedReason.FLOOR,
        intent.MatchFailedReason.DOMAIN,
        intent.MatchFailedReason.DEVICE_CLASS,
        intent.MatchFailedReason.FEATURE,
        intent.MatchFailedReason.STATE,
    }
)
# What a generic on/off intent really does, by domain (see Home Assistant's
# OnOffIntentHandler): turning a lock "off" unlocks it.
_ON_OFF_ACTIONS: dict[str, tuple[str, str]] = {
    "lock": ("lock", "unlock"),
    "cover": ("open_cover", "close_cover"),
    "valve": ("open_valve", "close_valve"),
    "button": ("press", "press"),
    "input_button": ("press", "press"),
}
_POSITION_ACTIONS = {"cover": "set_cover_position", "valve": "set_valve_position"}
_STOP_ACTIONS = {"cover": "stop_cover", "valve": "stop_valve"}
_RISKY_COVER_CLASSES = frozenset({CoverDeviceClass.GARAGE, CoverDeviceClass.GATE})
# Actions that make the home safer never need a confirmation.
_SAFE_ACTIONS = frozenset(
    {"lock", "close_cover", "close_valve", "alarm_arm_home", "alarm_arm_away"}
    | {"alarm_arm_night", "alarm_arm_vacation", "alarm_arm_custom_bypass"}
)


class Verdict(StrEnum):
    """What happens to a call."""

    ALLOW = "allow"
    REFUSE = "refuse"
    CONFIRM = "confirm"


class Reason(StrEnum):
    """Why a call is refused or held (the audit event's `reason`)."""

    NOT_FOUND = "not_found"
    QUESTION = "question"
    READ_ONLY_USER = "read_only_user"
    DOMAIN_NOT_ALLOWED = "domain_not_allowed"
    NEEDS_PERSON = "needs_person"
    RISKY = "needs_confirmation"


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's verdict; `message` tells the model what to do instead."""

    verdict: Verdict
    reason: Reason | None = None
    message: str = ""


ALLOW = Decision(Verdict.ALLOW)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a call would do: its effects, or why its targets were not found."""

    effects: tuple[Effect, ...] = ()
    changes_home: bool = False
    not_found: str | None = None
    # The device class of each effect's entity, for the rules on garage doors and gates.
    device_classes: Mapping[str, str] = field(default_factory=dict)
    # The tool reports its devices' states itself (this integration's own tools).
    tool_reports_states: bool = False


@dataclass(frozen=True, slots=True)
class Request:
    """Who asked, and whether the request only asks about the home."""

    user_id: str | None
    is_admin: bool
    is_question: bool
    conversation_id: str
    can_confirm: bool = True
    # A voice satellite or another device in the home: Home Assistant gives its
    # requests no user, yet a person is speaking to it and can answer a question.
    device_id: str | None = None
    text: str = ""

    @property
    def from_person(self) -> bool:
        """A user asked, or someone at a device in the home did."""
        return self.user_id is not None or self.device_id is not None


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """An agent's policy options, with defaults filled in."""

    confirm_domains: frozenset[str] = frozenset()
    confirm_services: frozenset[str] = frozenset()
    confirm_entities: frozenset[str] = frozenset()
    non_admin_access: str = DEFAULT_NON_ADMIN_ACCESS
    non_admin_domains: frozenset[str] = frozenset()
    allow_risky_without_user: bool = DEFAULT_ALLOW_RISKY_WITHOUT_USER

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> PolicySettings:
        """Read an agent's options; list options may be lists or comma-separated."""
        return cls(
            confirm_domains=_names(options.get(CONF_CONFIRM_DOMAINS)),
            confirm_services=_names(options.get(CONF_CONFIRM_SERVICES)),
            confirm_entities=_names(options.get(CONF_CONFIRM_ENTITIES)),
            non_admin_access=str(
                options.get(CONF_NON_ADMIN_ACCESS, DEFAULT_NON_ADMIN_ACCESS)
            ),
            non_admin_domains=_names(options.get(CONF_NON_ADMIN_DOMAINS)),
            allow_risky_without_user=bool(
                options.get(
                    CONF_ALLOW_RISKY_WITHOUT_USER, DEFAULT_ALLOW_RISKY_WITHOUT_USER
                )
            ),
        )


def _names(value: Any) -> frozenset[str]:
    if not value:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else value
    return frozenset(str(item).strip().lower() for item in items if str(item).strip())


def decide(
    resolution: Resolution, request: Request, settings: PolicySettings
) -> Decision:
    """Allow, refuse (saying what the model should do instead) or hold for a yes."""
    if resolution.not_found is not None:
        return Decision(Verdict.REFUSE, Reason.NOT_FOUND, resolution.not_found)
    if not resolution.changes_home:
        return ALLOW
    if request.is_question:
        return Decision(
            Verdict.REFUSE,
            Reason.QUESTION,
            "The user asked a question and gave no command, so nothing may be "
            "changed. Answer the question from the states you know or can read.",
        )
    if (refusal := _user_refusal(resolution, request, settings)) is not None:
        return refusal
    if not any(
        is_risky(effect, settings, resolution.device_classes.get(effect.entity_id))
        for effect in resolution.effects
    ):
        return ALLOW
    if not request.from_person:
        if settings.allow_risky_without_user:
            return ALLOW
        return Decision(
            Verdict.REFUSE,
            Reason.NEEDS_PERSON,
            "This action needs a person to ask for it, and this request has no "
            "user. Tell the user that it needs a person; do not try again.",
        )
    if not request.can_confirm:
        return _cannot_confirm()
    return Decision(Verdict.CONFIRM, Reason.RISKY)


def _cannot_confirm() -> Decision:
    return Decision(
        Verdict.REFUSE,
        Reason.NEEDS_PERSON,
        "This action needs the user's confirmation, which cannot be asked here.",
    )


def _user_refusal(
    resolution: Resolution, request: Request, settings: PolicySettings
) -> Decision | None:
    """Limits on what a user who is not an administrator may change."""
    if request.user_id is None or request.is_admin:
        return None
    if settings.non_admin_access == NON_ADMIN_READ_ONLY:
        return Decision(
            Verdict.REFUSE,
            Reason.READ_ONLY_USER,
            "This user may only ask about the home, not change it. Tell the user.",
        )
    if settings.non_admin_access == NON_ADMIN_DOMAINS and (
        not resolution.effects
        or any(e.domain not in settings.non_admin_domains for e in resolution.effects)
    ):
        allowed = ", ".join(sorted(settings.non_admin_domains)) or "none"
        return Decision(
            Verdict.REFUSE,
            Reason.DOMAIN_NOT_ALLOWED,
            f"This user may only control these kinds of devices: {allowed}. "
            "Tell the user that this one is not allowed for them.",
        )
    return None


def is_risky(
    effect: Effect, settings: PolicySettings, device_class: str | None = None
) -> bool:
    """Whether an effect needs a yes from the person first."""
    if not effect.changes_home or effect.action in _SAFE_ACTIONS:
        return False
    if (
        effect.domain in settings.confirm_domains
        or f"{effect.domain}.{effect.action}" in settings.confirm_services
        or effect.entity_id in settings.confirm_entities
    ):
        return True
    match effect.domain:
        case "lock":
            return effect.action in {"unlock", "open"}
        case "alarm_control_panel":
            return effect.action == "alarm_disarm"
        case "cover":
            return device_class in _RISKY_COVER_CLASSES and _opens_cover(effect)
    return False


def _opens_cover(effect: Effect) -> bool:
    """Opening a cover (a position above 0 counts as opening)."""
    data = dict(effect.data)
    if effect.action == "open_cover":
        return True
    return effect.action == "set_cover_position" and _number(data.get("position")) > 0


def _number(value: Any) -> float:
    try:
        return float(value)
    except TypeError, ValueError:
        return 0.0


def resolve_effects(
    hass: HomeAssistant,
    tool: llm.Tool,
    args: dict[str, Any],
    llm_context: llm.LLMContext,
) -> Resolution:
    """The entities a call would act on and how, found by the integration itself."""
    inner = _unwrap(tool)
    read_only = bool(tool.annotations.read_only)
    if isinstance(inner, EffectfulTool):
        effects = tuple(inner.effects(hass, args, llm_context))
        if not effects:
            # It names nothing exposed (or nothing at all, like a REST call): the tool
            # acts on exposed entities only, and its own answer says what is wrong.
            return Resolution(changes_home=not read_only, tool_reports_states=True)
        return replace(
            _with_classes(hass, effects, any(e.changes_home for e in effects)),
            tool_reports_states=True,
        )
    if isinstance(inner, llm.IntentTool) and _names_targets(args):
        return _resolve_intent(hass, inner, args, llm_context, read_only=read_only)
    return Resolution(changes_home=not read_only)


def _unwrap(tool: llm.Tool) -> llm.Tool:
    while isinstance(tool, llm.NamespacedTool):
        tool = tool.tool
    return tool


def _names_targets(args: dict[str, Any]) -> bool:
    return any(args.get(slot) for slot in ("name", "area", "floor", "domain"))


def _asked_name(args: dict[str, Any]) -> str:
    for slot in ("name", "area", "floor", "entity_id"):
        if isinstance(value := args.get(slot), str) and value:
            return value
    return "the device"


def _resolve_intent(
    hass: HomeAssistant,
    tool: llm.IntentTool,
    args: dict[str, Any],
    llm_context: llm.LLMContext,
    *,
    read_only: bool,
) -> Resolution:
    """Match an intent's targets as its handler will, among exposed entities only."""
    handler = next(
        (h for h in intent.async_get(hass) if h.intent_type == tool.intent_type), None
    )
    domains = _list(args.get("domain")) or getattr(handler, "required_domains", None)
    name = args.get("name")
    constraints = intent.MatchTargetsConstraints(
        name=name if isinstance(name, str) and name != "all" else None,
        area_name=_text(args.get("area")),
        floor_name=_text(args.get("floor")),
        domains=domains or None,
        device_classes=_list(args.get("device_class")) or None,
        assistant=llm_context.assistant or CONVERSATION_DOMAIN,
    )
    result = intent.async_match_targets(
        hass, constraints, llm.async_get_match_preferences(hass, llm_context)
    )
    if not result.is_match:
        return _no_match(result, args, read_only=read_only)
    data = tuple(
        (key, value) for key, value in sorted(args.items()) if key not in _TARGET_SLOTS
    )
    effects = tuple(
        Effect(state.entity_id, READ if read_only else _action(handler, state), data)
        for state in result.states
    )
    return _with_classes(hass, effects, not read_only)


def _with_classes(
    hass: HomeAssistant, effects: tuple[Effect, ...], changes_home: bool
) -> Resolution:
    classes: dict[str, str] = {}
    for effect in effects:
        state = hass.states.get(effect.entity_id)
        if state is not None and (value := state.attributes.get(ATTR_DEVICE_CLASS)):
            classes[effect.entity_id] = str(value)
    return Resolution(effects, changes_home, device_classes=classes)


def _no_match(
    result: intent.MatchTargetsResult, args: dict[str, Any], *, read_only: bool
) -> Resolution:
    reason = result.no_match_reason
    if reason in _HIDDEN_REASONS:
        if read_only and reason is intent.MatchFailedReason.STATE:
            return Resolution()
        return Resolution(
            not_found=NOT_FOUND.format(name=_asked_name(args)) + NOT_FOUND_HINT
        )
    if reason is intent.MatchFailedReason.DUPLICATE_NAME:
        return Resolution(
            not_found=f"Several devices are named {result.no_match_name!r}. "
            "Add the area to say which one."
        )
    if reason in (
        intent.MatchFailedReason.INVALID_AREA,
        intent.MatchFailedReason.INVALID_FLOOR,
    ):
        return Resolution(
            not_found=f"There is no area or floor named {result.no_match_name!r}. "
            "Use an area from the list you were given."
        )
    return Resolution(
        not_found=NOT_FOUND.format(name=_asked_name(args)) + NOT_FOUND_HINT
    )


def _action(handler: intent.IntentHandler | None, state: State) -> str:
    """The service an intent calls on an entity of this domain."""
    intent_type = handler.intent_type if handler else ""
    if intent_type in (intent.INTENT_TURN_ON, intent.INTENT_TURN_OFF):
        on, off = _ON_OFF_ACTIONS.get(state.domain, ("turn_on", "turn_off"))
        return on if intent_type == intent.INTENT_TURN_ON else off
    if intent_type == intent.INTENT_SET_POSITION:
        return _POSITION_ACTIONS.get(state.domain, intent_type)
    if intent_type == intent.INTENT_STOP_MOVING:
        return _STOP_ACTIONS.get(state.domain, intent_type)
    if isinstance(handler, intent.ServiceIntentHandler):
        return handler.service
    return intent_type or "change"


def _list(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {str(item) for item in value}
    return set()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
