"""Finding devices by a name, an area and a kind, as the device-lookup tool does.

Small models misspell names and call a lamp a light, so matching is fuzzy, word by word,
and a kind may be a domain or a word for one.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from .devices import DOMAIN_WORDS, Device, words_of

MIN_SIMILARITY = 0.6


def find_devices(
    devices: list[Device],
    *,
    name: str | None = None,
    area: str | None = None,
    domain: str | None = None,
) -> list[Device]:
    """Devices matching a name or alias, an area and a kind: fuzzy and case-insensitive.

    Best matches first. A kind may be given as a domain ("light") or a word for it
    ("lamps").
    """
    wanted_domains = _domains_for(domain) if domain else None
    resemblance = _Resemblance()
    name_query = frozenset(words_of(name)) if name else None
    area_query = frozenset(words_of(area)) if area else None
    area_scores: dict[str | None, float] = {}
    scored = []
    for device in devices:
        if wanted_domains is not None and device.domain not in wanted_domains:
            continue
        if area_query is not None:
            if (area_score := area_scores.get(device.area)) is None:
                area_score = area_scores[device.area] = resemblance(
                    area_query, device.area_words
                )
            if area_score < MIN_SIMILARITY:
                continue
        score = (
            max(resemblance(name_query, words) for words in device.lookup_words)
            if name_query is not None
            else 1.0
        )
        if score >= MIN_SIMILARITY:
            scored.append((score, device))
    scored.sort(key=lambda item: (-item[0], item[1].order))
    return [device for _, device in scored]


def _domains_for(kind: str) -> set[str]:
    words = set(words_of(kind))
    domains = {kind.strip().lower()} | {
        domain for domain, terms in DOMAIN_WORDS.items() if words & set(words_of(terms))
    }
    return {d for d in domains if d}


class _Resemblance:
    """How well a query names a text, word by word (typos forgiven).

    1.0 when one's words contain the other's; otherwise every word of the query must
    resemble some word of the text, and the weakest of those resemblances counts. A
    home has few distinct words, so each pair of words is compared once per lookup.
    """

    def __init__(self) -> None:
        """Start with no words compared."""
        self._ratios: dict[tuple[str, str], float] = {}

    def __call__(self, query: frozenset[str], text: frozenset[str]) -> float:
        """The resemblance of two sets of words, 0 to 1."""
        if not query or not text:
            return 0.0
        if query <= text or text <= query:
            return 1.0
        return min(
            1.0 if wanted in text else max(self._ratio(wanted, word) for word in text)
            for wanted in query
        )

    def _ratio(self, first: str, second: str) -> float:
        if (ratio := self._ratios.get((first, second))) is None:
            ratio = SequenceMatcher(None, first, second).ratio()
            self._ratios[first, second] = ratio
        return ratio
