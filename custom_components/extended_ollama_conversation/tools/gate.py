"""Every call of one turn, down one road: resolve, decide, run or hold, audit, record.

The turn loop hands each prepared call here. What the gate learns in the turn (what
each call did to each entity, what waits for a yes) lets the turn end with a question
or with an answer that matches the home.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant, split_entity_id
from homeassistant.helpers import llm

from ..audit import AuditedCall, Outcome, async_audit
from ..confirmation import PendingAction, confirmations, describe, question
from .effects import Effect
from .executor import EntityResult, async_execute
from .focus import NOT_NAMED_CODE
from .memory_tools import unasked_memory_call
from .policy import (
    PolicySettings,
    Reason,
    Request,
    Resolution,
    Verdict,
    decide,
    resolve_effects,
)
from .questions import is_question

AWAITING = (
    "Nothing was done yet: the user is asked to confirm it. Do not call this tool "
    "again and do not say that it is done."
)
_REFUSAL_SPEECH = {
    Reason.NOT_FOUND: "I couldn't find that device.",
    Reason.READ_ONLY_USER: "You may ask about the home, but not change it.",
    Reason.DOMAIN_NOT_ALLOWED: "You are not allowed to control that device.",
    Reason.NEEDS_PERSON: "That action needs a person to ask for it.",
}
COULD_NOT = "Sorry, I couldn't do that."


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What one call did, for checking the model's final words."""

    effects: tuple[Effect, ...]
    entities: tuple[EntityResult, ...]
    ok: bool
    speech: str


class CallGate:
    """The policy, the executor and the audit for one turn."""

    def __init__(
        self,
        hass: HomeAssistant,
        api: llm.APIInstance,
        request: Request,
        settings: PolicySettings,
    ) -> None:
        """Hold what every call of the turn is judged by."""
        self.hass = hass
        self.api = api
        self.request = request
        self.settings = settings
        self._tools = {tool.name: tool for tool in api.tools}
        self.records: list[CallRecord] = []
        # The entities that successful read-only calls read, in order.
        self.reads: list[str] = []
        # Calls of the turn, whatever became of them: after any, the words are checked.
        self.calls = 0
        self._pending_effects: list[Effect] = []
        self._pending_calls: list[AuditedCall] = []

    def _audited(
        self, tool_input: llm.ToolInput, effects: tuple[Effect, ...]
    ) -> AuditedCall:
        return AuditedCall(
            tool=tool_input.tool_name,
            arguments=dict(tool_input.tool_args),
            effects=effects,
            user_id=self.request.user_id,
            conversation_id=self.request.conversation_id,
        )

    def refused_early(self, tool_input: llm.ToolInput, result: llm.ToolResult) -> None:
        """A call the toolbox turned back (unknown tool, bad arguments)."""
        self.calls += 1
        data: Any = result.data
        reason = str(data.get("error")) if isinstance(data, dict) else "refused"
        async_audit(self.hass, self._audited(tool_input, ()), Outcome.REFUSED, reason)
        # A repeat, or a call on a device nobody asked about, is no failure to report.
        if reason not in {"RepeatedCall", NOT_NAMED_CODE}:
            self.records.append(CallRecord((), (), False, COULD_NOT))

    async def async_handle(self, tool_input: llm.ToolInput) -> llm.ToolResult:
        """Decide on one call and run it, refuse it, or hold it for a yes."""
        if (
            unasked := unasked_memory_call(tool_input.tool_name, self.request.text)
        ) is not None:
            self.refused_early(tool_input, unasked)
            return unasked
        self.calls += 1
        tool = self._tools[tool_input.tool_name]
        resolution = resolve_effects(
            self.hass, tool, tool_input.tool_args, self.api.llm_context
        )
        decision = decide(resolution, self.request, self.settings)
        call = self._audited(tool_input, resolution.effects)
        if decision.verdict is Verdict.REFUSE:
            return self._refuse(call, resolution, decision.reason, decision.message)
        if decision.verdict is Verdict.CONFIRM:
            self._pending_effects.extend(resolution.effects)
            self._pending_calls.append(call)
            async_audit(self.hass, call, Outcome.AWAITING_CONFIRMATION, decision.reason)
            return llm.ToolResult(
                data={"status": "awaiting_confirmation", "note": AWAITING}
            )
        return await self._async_run(tool_input, call, resolution)

    def _refuse(
        self,
        call: AuditedCall,
        resolution: Resolution,
        reason: Reason | None,
        message: str,
    ) -> llm.ToolResult:
        async_audit(self.hass, call, Outcome.REFUSED, reason)
        if reason is not Reason.QUESTION:
            speech = _REFUSAL_SPEECH.get(reason or Reason.NOT_FOUND, COULD_NOT)
            self.records.append(CallRecord(resolution.effects, (), False, speech))
        return llm.ToolResult(
            data={"error": "Refused", "reason": str(reason), "error_text": message},
            error=True,
        )

    async def _async_run(
        self, tool_input: llm.ToolInput, call: AuditedCall, resolution: Resolution
    ) -> llm.ToolResult:
        execution = await async_execute(
            self.hass,
            self.api,
            tool_input,
            resolution.effects,
            add_states=not resolution.tool_reports_states,
        )
        changed = [e.effect for e in execution.entities if e.changed]
        if execution.error is not None:
            async_audit(
                self.hass, call, Outcome.FAILED, execution.error, changed=changed
            )
        else:
            async_audit(self.hass, call, Outcome.DONE, changed=changed)
        if not resolution.changes_home and execution.error is None:
            self.reads.extend(
                e.entity_id for e in resolution.effects if not e.changes_home
            )
        if resolution.changes_home:
            ok = execution.error is None and all(e.reached for e in execution.entities)
            speech = " ".join(e.speech for e in execution.entities)
            if execution.error is not None:
                speech = f"{_could_not(self.hass, resolution.effects)} {speech}".strip()
            self.records.append(
                CallRecord(resolution.effects, execution.entities, ok, speech)
            )
        return execution.result

    @property
    def pending(self) -> PendingAction | None:
        """The risky actions of this turn that wait for the person's yes."""
        if not self._pending_effects:
            return None
        return PendingAction(
            conversation_id=self.request.conversation_id,
            user_id=self.request.user_id,
            device_id=self.request.device_id,
            effects=tuple(dict.fromkeys(self._pending_effects)),
            calls=tuple(self._pending_calls),
        )


async def async_turn_gate(
    hass: HomeAssistant,
    chat_log: conversation.ChatLog,
    agent_id: str,
    policy: PolicySettings,
) -> CallGate | None:
    """The gate for one turn's calls: who asks, and whether the request is a question."""
    if (api := chat_log.llm_api) is None:
        return None
    llm_context = api.llm_context
    user_id = llm_context.context.user_id if llm_context.context else None
    user = await hass.auth.async_get_user(user_id) if user_id else None
    text = next(
        (
            content.content
            for content in reversed(chat_log.content)
            if isinstance(content, conversation.UserContent)
        ),
        "",
    )
    request = Request(
        user_id=user_id,
        is_admin=user is not None and user.is_admin,
        is_question=is_question(text, llm_context.language or "en"),
        conversation_id=chat_log.conversation_id,
        device_id=llm_context.device_id,
        text=text,
        # Only a conversation can ask back; an AI Task refuses what needs a yes.
        can_confirm=split_entity_id(agent_id)[0] == conversation.DOMAIN,
    )
    return CallGate(hass, api, request, policy)


def hold_for_confirmation(gate: CallGate) -> str | None:
    """Store the turn's risky actions for a yes; the question that ends the turn."""
    if (pending := gate.pending) is None:
        return None
    confirmations(gate.hass).add(pending)
    return question(gate.hass, pending.effects)


def _could_not(hass: HomeAssistant, effects: tuple[Effect, ...]) -> str:
    """'Sorry, I couldn't turn on the outside temperature.'."""
    if not effects:
        return COULD_NOT
    return f"Sorry, I couldn't {describe(hass, effects)}."
