"""A wire-level Ollama stand-in: a real HTTP server on 127.0.0.1 that speaks Ollama's API.

Tests script its replies and inject faults; `python -m tests.ollama_stub` runs it in a
clearly labelled demo mode for scripts/develop. It is not a language model.
"""

from .server import Fault, OllamaStub, RecordedRequest, Reply, StubModel

__all__ = ["Fault", "OllamaStub", "RecordedRequest", "Reply", "StubModel"]
