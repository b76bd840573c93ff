"""The results as tables: per request, then totals and ratios per agent."""

from __future__ import annotations

from collections.abc import Sequence
import statistics

from .agents import Agent
from .requests import DEVICE_KINDS
from .runner import TurnResult


def per_request_table(agents: Sequence[Agent], results: Sequence[TurnResult]) -> str:
    """One row per request, one column per agent: verdict, time, prompt tokens, rounds."""
    by_key = {(r.agent.label, r.request.text): r for r in results}
    texts = list(dict.fromkeys(r.request.text for r in results))
    kinds = {r.request.text: r.request.kind for r in results}
    lines = [
        "| request | kind | " + " | ".join(a.label for a in agents) + " |",
        "| --- | --- |" + " --- |" * len(agents),
    ]
    for text in texts:
        cells = [_cell(by_key[(a.label, text)]) for a in agents]
        lines.append(f"| {text} | {kinds[text]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(result: TurnResult) -> str:
    mark = "pass" if result.passed else "**fail**"
    model = (
        f", {result.prompt_tokens:,} tok, {result.rounds} r" if result.rounds else ""
    )
    return f"{mark} {result.seconds:.1f} s{model}"


def totals_table(agents: Sequence[Agent], results: Sequence[TurnResult]) -> str:
    """Accuracy, speed and timeouts per agent, with this integration's ratio to core."""
    rows = [
        ("requests right", _accuracy),
        ("device commands right", _device_accuracy),
        ("questions, general and risky right", _other_accuracy),
        ("median turn, requests that reached the model", _median_model_turn),
        ("first request after start-up", _first_turn),
        ("median prompt tokens (first round, answered)", _median_tokens),
        ("requests that reached the model", _reached),
        ("turns failed by timeout", _timeouts),
    ]
    lines = [
        "| | " + " | ".join(a.label for a in agents) + " |",
        "| --- |" + " --- |" * len(agents),
    ]
    for title, measure in rows:
        cells = [measure([r for r in results if r.agent == a]) for a in agents]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _percent(results: Sequence[TurnResult]) -> str:
    if not results:
        return "-"
    right = sum(r.passed for r in results)
    return f"{right}/{len(results)} ({100 * right / len(results):.0f} %)"


def _accuracy(results: Sequence[TurnResult]) -> str:
    return _percent(results)


def _device_accuracy(results: Sequence[TurnResult]) -> str:
    return _percent([r for r in results if r.request.kind in DEVICE_KINDS])


def _other_accuracy(results: Sequence[TurnResult]) -> str:
    return _percent([r for r in results if r.request.kind not in DEVICE_KINDS])


def _median_model_turn(results: Sequence[TurnResult]) -> str:
    seconds = [r.seconds for r in results if r.reached_model]
    return f"{statistics.median(seconds):.1f} s" if seconds else "-"


def _first_turn(results: Sequence[TurnResult]) -> str:
    return f"{results[0].seconds:.1f} s" if results else "-"


def _median_tokens(results: Sequence[TurnResult]) -> str:
    tokens = [r.prompt_tokens for r in results if r.prompt_tokens]
    return f"{statistics.median(tokens):,.0f}" if tokens else "-"


def _reached(results: Sequence[TurnResult]) -> str:
    return str(sum(r.reached_model for r in results))


def _timeouts(results: Sequence[TurnResult]) -> str:
    return str(sum(r.timed_out for r in results))


def ratios(results: Sequence[TurnResult], ours: Agent, core: Agent) -> str:
    """The issue's targets as this integration against core's, in words."""
    mine = [r for r in results if r.agent == ours]
    theirs = [r for r in results if r.agent == core]

    def accuracy(rs: Sequence[TurnResult]) -> float:
        return 100 * sum(r.passed for r in rs) / len(rs) if rs else 0.0

    def median(rs: Sequence[TurnResult]) -> float:
        seconds = [r.seconds for r in rs if r.reached_model]
        return statistics.median(seconds) if seconds else 0.0

    parts = [f"accuracy {accuracy(mine) - accuracy(theirs):+.0f} points against core"]
    if median(theirs):
        parts.append(
            f"median model turn {median(mine) / median(theirs):.2f} times core's"
        )
    if mine and theirs and theirs[0].seconds:
        parts.append(
            f"first request {mine[0].seconds / theirs[0].seconds:.2f} times core's"
        )
    return "; ".join(parts) + "."
