"""What a tool call would do to the home, as the policy layer judges it.

The policy decides from a call's resolved targets, never from what the model says about
them. Assist's intent tools are resolved by the policy itself (it knows how intents map
to services); this integration's own tools and user-defined tools say what they would do
by implementing `EffectfulTool.effects`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from homeassistant.core import HomeAssistant
from homeassistant.helpers import llm

# The action of an effect that only reads.
READ = "read"


@dataclass(frozen=True, slots=True)
class Effect:
    """One entity a call acts on, and the service it would call on it.

    `action` is the service's name in the entity's domain (`unlock`, `open_cover`,
    `turn_on`, `set_temperature`, `alarm_disarm`, ...), or READ for a read.
    """

    entity_id: str
    action: str
    data: tuple[tuple[str, Any], ...] = ()

    @property
    def domain(self) -> str:
        """The entity's domain."""
        return self.entity_id.partition(".")[0]

    @property
    def changes_home(self) -> bool:
        """Whether the call would change something (not just read)."""
        return self.action != READ


@runtime_checkable
class EffectfulTool(Protocol):
    """A tool that can say, before it runs, which entities a call would act on."""

    def effects(
        self, hass: HomeAssistant, args: dict[str, Any], llm_context: llm.LLMContext
    ) -> list[Effect]:
        """The call's effects on exposed entities; empty when it names none of them.

        Only exposed entities may appear. An empty list for a call that names a device
        means the device is unknown or not exposed (the two are answered alike).
        """
        ...
