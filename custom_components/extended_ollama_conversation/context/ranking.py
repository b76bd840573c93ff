"""Which devices a request concerns: points for names, kinds and the requester's area.

The positions of the devices by word, kind and area are kept with the index, so scoring
a request touches only the devices it may concern and a large home costs little more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .devices import DOMAIN_WORDS, STOP_WORDS, Device, words_of

if TYPE_CHECKING:
    from .index import DeviceIndex

NAMED = 100  # the request names this device (or one of its aliases)
RECENT_POINTS = 3  # its state changed in the last minutes: worth saying
SEMANTIC_WEIGHT = 40  # points for a cosine similarity of 1 with the request
# A device missing from the directory is added for the request only with at least this:
# a shared word, its kind or area mentioned, or a meaning close to the request.
MIN_EXTRA_SCORE = 10

_DOMAIN_TERMS = {
    domain: frozenset(words_of(terms)) for domain, terms in DOMAIN_WORDS.items()
}


@dataclass(frozen=True, slots=True)
class DevicePositions:
    """Where each device stands in the index, and which stand by a word, kind or area."""

    position: dict[str, int]
    by_word: dict[str, list[int]]
    by_domain: dict[str, list[int]]
    by_area: dict[str, list[int]]

    @classmethod
    def create(cls, devices: list[Device]) -> DevicePositions:
        """Index the devices (in their fixed order)."""
        lookup = cls({}, {}, {}, {})
        for position, device in enumerate(devices):
            lookup.position[device.entity_id] = position
            for word in frozenset().union(*device.name_words, device.area_words):
                lookup.by_word.setdefault(word, []).append(position)
            lookup.by_domain.setdefault(device.domain, []).append(position)
            if device.area:
                lookup.by_area.setdefault(device.area, []).append(position)
        return lookup


def relevance(
    index: DeviceIndex, request: str, satellite_area: str | None
) -> dict[str, int]:
    """Score the devices the request may concern; a device left out scores 0.

    Only devices that share a word with the request, are of a kind it mentions or are
    in the requester's area are looked at, so a large home costs little more.
    """
    devices = index.devices()
    lookup = index.lookup()
    wanted = frozenset(words_of(request)) - STOP_WORDS
    scores: dict[int, int] = {}
    for position in {p for word in wanted for p in lookup.by_word.get(word, ())}:
        device = devices[position]
        score = 0
        for name_words in device.name_words:
            if name_words and name_words <= wanted:
                score = NAMED
                break
            score = max(score, 10 * len(name_words & wanted))
        if device.area_words and device.area_words <= wanted:
            score += 20
        scores[position] = score

    def add(positions: Iterable[int], points: int) -> None:
        for position in positions:
            scores[position] = scores.get(position, 0) + points

    for domain, terms in _DOMAIN_TERMS.items():
        if wanted & terms:
            add(lookup.by_domain.get(domain, ()), 15)
    if satellite_area:
        add(lookup.by_area.get(satellite_area, ()), 8)
    return {devices[position].entity_id: score for position, score in scores.items()}
