"""Risky actions wait here for the person's yes, keyed by conversation.

What is confirmed is what was stored when the question was asked (the entities, the
services and their data, the user, the time), never what a model says in the next
turn; a yes runs those service calls within `CONFIRMATION_TIMEOUT` seconds, from the
same user in the same conversation. Anything else cancels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
import re
import unicodedata

from homeassistant.core import Context, HomeAssistant
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .audit import AuditedCall, Outcome, async_audit
from .const import CONFIRMATION_TIMEOUT, DOMAIN
from .tools.effects import Effect
from .tools.executor import async_call_services
from .tools.wording import join, name_of, the, verb

# Pending actions kept at most (the oldest go first); a home has few at a time.
MAX_PENDING = 100
# Yes in the languages Home Assistant's sentences cover best; English words are
# accepted in every language, since people mix them.
YES_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        {"yes", "yeah", "yep", "yup", "sure", "do it", "confirm", "confirmed"}
        | {"ok", "okay", "go ahead", "please do", "yes please", "of course"}
    ),
    "de": frozenset({"ja", "jawohl", "klar", "mach es", "mach das", "bestätigen"})
    | frozenset({"ja bitte", "genau", "sicher", "bestätige"}),
    "fr": frozenset({"oui", "ouais", "d'accord", "vas-y", "confirmer", "bien sûr"})
    | frozenset({"oui merci", "fais-le", "je confirme"}),
    "es": frozenset({"sí", "si", "claro", "hazlo", "confirmar", "de acuerdo", "vale"})
    | frozenset({"sí por favor", "confirmo"}),
    "nl": frozenset({"ja", "jazeker", "zeker", "doe maar", "doe het", "bevestig"})
    | frozenset({"ja graag", "prima", "oké"}),
    "it": frozenset({"sì", "si", "certo", "fallo", "conferma", "va bene"}),
    "pt": frozenset({"sim", "claro", "faça", "confirmar", "pode ser"}),
}
_POLITE_TAIL = re.compile(
    r"[\s,.!]*(please|thanks|thank you|bitte|merci|gracias)?[\s.!]*$"
)
_PUNCTUATION = re.compile(r"[.!?¡¿,;:\s]+")


@dataclass(frozen=True, slots=True)
class PendingAction:
    """A risky action asked about, exactly as it will run on a yes."""

    conversation_id: str
    user_id: str | None
    effects: tuple[Effect, ...]
    calls: tuple[AuditedCall, ...]
    created: datetime = field(default_factory=dt_util.utcnow)
    # The satellite asked through, when no user did: the yes must come from it too.
    device_id: str | None = None

    @property
    def expired(self) -> bool:
        """Whether the time to say yes is over."""
        return dt_util.utcnow() - self.created > timedelta(seconds=CONFIRMATION_TIMEOUT)


class ConfirmationStore:
    """The pending actions of every conversation (one per conversation)."""

    def __init__(self) -> None:
        """Start empty."""
        self._pending: dict[str, PendingAction] = {}

    def add(self, pending: PendingAction) -> None:
        """Hold an action; a newer one replaces the conversation's older one."""
        self._pending.pop(pending.conversation_id, None)
        self._pending[pending.conversation_id] = pending
        while len(self._pending) > MAX_PENDING:
            del self._pending[next(iter(self._pending))]

    def pop(self, conversation_id: str) -> PendingAction | None:
        """Take the conversation's pending action out (it is answered now)."""
        return self._pending.pop(conversation_id, None)


_STORE: HassKey[ConfirmationStore] = HassKey(f"{DOMAIN}_confirmations")


def confirmations(hass: HomeAssistant) -> ConfirmationStore:
    """The integration's one store."""
    if (store := hass.data.get(_STORE)) is None:
        store = hass.data[_STORE] = ConfirmationStore()
    return store


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text.strip().lower())
    text = _POLITE_TAIL.sub("", text)
    return _PUNCTUATION.sub(" ", text).strip()


def is_yes(text: str, language: str) -> bool:
    """Whether the reply is a plain yes (nothing else asked along with it)."""
    reply = _normalise(text)
    words = YES_WORDS["en"] | YES_WORDS.get(language.partition("-")[0].lower(), set())
    return reply in {_normalise(word) for word in words}


def describe(hass: HomeAssistant, effects: tuple[Effect, ...]) -> str:
    """'unlock the front door and open the garage door'."""
    by_action: dict[str, list[str]] = {}
    for effect in effects:
        by_action.setdefault(effect.action, []).append(
            the(name_of(hass, effect.entity_id))
        )
    return join(
        [f"{verb(action)} {join(names)}" for action, names in by_action.items()]
    )


def question(hass: HomeAssistant, effects: tuple[Effect, ...]) -> str:
    """The one-sentence question the person answers."""
    return f"Do you want me to {describe(hass, effects)}?"


async def async_answer_pending(
    hass: HomeAssistant,
    conversation_id: str,
    text: str,
    language: str,
    user_id: str | None,
    *,
    device_id: str | None = None,
) -> str | None:
    """Answer the reply to a confirmation question; None when there is none to answer.

    A yes in time from the same user (or, with no user, the same device) runs the stored service calls; anything else
    cancels and says so. A late reply that is not a yes is a new request (None).
    """
    if (pending := confirmations(hass).pop(conversation_id)) is None:
        return None
    what = describe(hass, pending.effects)
    yes = is_yes(text, language)
    if pending.expired:
        _audit_all(hass, pending, Outcome.CANCELLED, "expired")
        if not yes:
            return None
        return f"I did not {what}: the confirmation came too late. Ask me again if you still want it."
    same_person = user_id == pending.user_id and (
        user_id is not None or device_id == pending.device_id
    )
    if not yes or not same_person:
        reason = "not_confirmed" if same_person else "other_user"
        _audit_all(hass, pending, Outcome.CANCELLED, reason)
        return f"Okay, I won't {what}."
    results, error = await async_call_services(
        hass, pending.effects, Context(user_id=pending.user_id)
    )
    changed = [result.effect for result in results if result.changed]
    for call in pending.calls:
        async_audit(
            hass,
            call,
            Outcome.CONFIRMED if error is None else Outcome.FAILED,
            error,
            changed=[e for e in changed if e in call.effects],
        )
    said = " ".join(result.speech for result in results)
    if error is not None:
        return f"Sorry, I couldn't {what}. {said}".strip()
    return said or "Done."


def _audit_all(
    hass: HomeAssistant, pending: PendingAction, outcome: Outcome, reason: str
) -> None:
    for call in pending.calls:
        async_audit(hass, call, outcome, reason)
