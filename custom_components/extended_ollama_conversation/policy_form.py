"""The safety policy's fields in an agent's form (the policy itself is tools/policy.py).

What else needs a yes before it runs, what non-administrators may change, and whether
automations may run risky actions without a user to ask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
)
import probatio as vol

from .const import (
    CONF_ALLOW_RISKY_WITHOUT_USER,
    CONF_CONFIRM_DOMAINS,
    CONF_CONFIRM_ENTITIES,
    CONF_CONFIRM_SERVICES,
    CONF_NON_ADMIN_ACCESS,
    CONF_NON_ADMIN_DOMAINS,
    DEFAULT_ALLOW_RISKY_WITHOUT_USER,
    DEFAULT_NON_ADMIN_ACCESS,
    NON_ADMIN_ACCESS_CHOICES,
)


def policy_fields(options: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """What else needs a yes, what non-administrators may change, automations."""
    names = TextSelector(TextSelectorConfig(multiple=True))
    return {
        vol.Optional(key, description={"suggested_value": options.get(key)}): selector
        for key, selector in (
            (CONF_CONFIRM_DOMAINS, names),
            (CONF_CONFIRM_SERVICES, names),
            (
                CONF_CONFIRM_ENTITIES,
                EntitySelector(EntitySelectorConfig(multiple=True)),
            ),
            (CONF_NON_ADMIN_DOMAINS, names),
        )
    } | {
        vol.Required(
            CONF_NON_ADMIN_ACCESS,
            default=options.get(CONF_NON_ADMIN_ACCESS, DEFAULT_NON_ADMIN_ACCESS),
        ): SelectSelector(
            SelectSelectorConfig(
                options=list(NON_ADMIN_ACCESS_CHOICES),
                translation_key=CONF_NON_ADMIN_ACCESS,
            )
        ),
        vol.Required(
            CONF_ALLOW_RISKY_WITHOUT_USER,
            default=options.get(
                CONF_ALLOW_RISKY_WITHOUT_USER, DEFAULT_ALLOW_RISKY_WITHOUT_USER
            ),
        ): BooleanSelector(),
    }
