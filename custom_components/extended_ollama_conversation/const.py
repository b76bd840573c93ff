"""Option keys and defaults for the Extended Ollama Conversation integration."""

from typing import Final

DOMAIN: Final = "extended_ollama_conversation"

DEFAULT_PORT: Final = 11434
DEFAULT_TITLE: Final = "Ollama"

# Seconds the server may stay silent (connect, or between two streamed lines) before a
# request fails. A CPU-only server can take half a minute to read a long prompt.
DEFAULT_TIMEOUT: Final = 60
CONNECT_TIMEOUT: Final = 10
MIN_TIMEOUT: Final = 5
MAX_TIMEOUT: Final = 600

DEFAULT_VERIFY_SSL: Final = True
