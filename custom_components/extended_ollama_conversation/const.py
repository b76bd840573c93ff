"""Option keys and defaults for the Extended Ollama Conversation integration."""

from typing import Final

DOMAIN: Final = "extended_ollama_conversation"

DEFAULT_PORT: Final = 11434
DEFAULT_TITLE: Final = "Ollama"

# Seconds the server may stay silent (connect, or between two streamed lines) before a
# request fails. The first line of an answer may take longer: as long as the prompt
# needs at the speed the server has shown (see pacing.py), up to ten times this.
DEFAULT_TIMEOUT: Final = 60
CONNECT_TIMEOUT: Final = 10
MIN_TIMEOUT: Final = 5
MAX_TIMEOUT: Final = 600

DEFAULT_VERIFY_SSL: Final = True

# Subentry types: one per conversation agent, one per AI task entity.
SUBENTRY_CONVERSATION: Final = "conversation"
SUBENTRY_AI_TASK: Final = "ai_task_data"
DEFAULT_CONVERSATION_NAME: Final = "Ollama Conversation"
DEFAULT_AI_TASK_NAME: Final = "Ollama AI Task"

# Agent options. `model`, `prompt` and `llm_hass_api` are homeassistant.const's keys;
# the rest use the names of core's ollama integration where it has the same option.
CONF_TEMPERATURE: Final = "temperature"
CONF_TOP_P: Final = "top_p"
CONF_TOP_K: Final = "top_k"
CONF_NUM_PREDICT: Final = "num_predict"
CONF_NUM_CTX: Final = "num_ctx"
CONF_KEEP_ALIVE: Final = "keep_alive"
CONF_THINK: Final = "think"
CONF_MAX_HISTORY: Final = "max_history"
CONF_MAX_TOOL_ITERATIONS: Final = "max_tool_iterations"
CONF_PREFER_LOCAL: Final = "prefer_local"
CONF_CONTEXT_BUDGET: Final = "context_budget"
CONF_EMBEDDING_MODEL: Final = "embedding_model"

DEFAULT_NUM_CTX: Final = 8192
MIN_NUM_CTX: Final = 2048
MAX_NUM_CTX: Final = 131072
DEFAULT_KEEP_ALIVE: Final = -1  # seconds; -1 keeps the model loaded, 0 unloads at once
DEFAULT_THINK: Final = False
# Low, so that the same words give the same action: with Ollama's own 0.8 a 1.5B model
# wrote a call in a different form, or answered "12 times 12" with a light, at random.
DEFAULT_TEMPERATURE: Final = 0.1
DEFAULT_MAX_HISTORY: Final = 20  # earlier turns kept; 0 keeps all that fit
DEFAULT_MAX_TOOL_ITERATIONS: Final = 6
DEFAULT_PREFER_LOCAL: Final = True
# Tokens for the home's description. A cold prompt costs its length at the server's
# reading speed (about 50 tokens/s on a 2-core CPU), so this stays small: a home larger
# than it lists its most important devices and the lookup tool finds the rest.
DEFAULT_CONTEXT_BUDGET: Final = 1200
MIN_CONTEXT_BUDGET: Final = 200
# After a command whose calls all worked, or a question whose reads found a few
# devices, answer with the results instead of another model round (tools/answers.py).
CONF_DIRECT_ANSWERS: Final = "direct_answers"
DEFAULT_DIRECT_ANSWERS: Final = True

# Sampling options are sent only when set; Ollama's model defaults apply otherwise.
SAMPLING_OPTIONS: Final = (CONF_TEMPERATURE, CONF_TOP_P, CONF_TOP_K, CONF_NUM_PREDICT)

# Tokens kept free for the answer when the prompt is fitted into num_ctx.
ANSWER_RESERVE_TOKENS: Final = 512

# --- User-defined tools (tools/user_tools.py) ---------------------------------------
# An agent's own tools, as YAML: kinds script, template and rest.
CONF_USER_TOOLS: Final = "user_tools"

# --- Warm-up of Ollama's prompt cache (warmup.py) -------------------------------------
# An agent option: send the agent's stable prompt prefix after start-up and changes.
CONF_WARM_UP: Final = "warm_up"
DEFAULT_WARM_UP: Final = True
# Seconds changes to the exposed devices must settle before the prefix is sent again.
WARM_UP_COOLDOWN: Final = 30.0

# --- Safety policy (tools/policy.py) ------------------------------------------------
# Agent options: what else needs a confirmation, what users who are not administrators
# may change, and whether requests without a user (automations) may do risky actions.
CONF_CONFIRM_DOMAINS: Final = "confirm_domains"
CONF_CONFIRM_SERVICES: Final = "confirm_services"
CONF_CONFIRM_ENTITIES: Final = "confirm_entities"
CONF_NON_ADMIN_ACCESS: Final = "non_admin_access"
CONF_NON_ADMIN_DOMAINS: Final = "non_admin_domains"
CONF_ALLOW_RISKY_WITHOUT_USER: Final = "allow_risky_without_user"
NON_ADMIN_FULL: Final = "full"
NON_ADMIN_READ_ONLY: Final = "read_only"
NON_ADMIN_DOMAINS: Final = "domains"
NON_ADMIN_ACCESS_CHOICES: Final = (
    NON_ADMIN_FULL,
    NON_ADMIN_READ_ONLY,
    NON_ADMIN_DOMAINS,
)
DEFAULT_NON_ADMIN_ACCESS: Final = NON_ADMIN_FULL
DEFAULT_ALLOW_RISKY_WITHOUT_USER: Final = False
# Seconds within which a risky action may be confirmed in the same conversation.
CONFIRMATION_TIMEOUT: Final = 60
# Server entry options (the entry's options flow): one limiter for the integration.
CONF_RATE_PER_MINUTE: Final = "rate_limit_per_minute"
CONF_RATE_PER_USER_HOUR: Final = "rate_limit_per_user_per_hour"
DEFAULT_RATE_PER_MINUTE: Final = 20
DEFAULT_RATE_PER_USER_HOUR: Final = 60
# The audit event fired for every tool call the policy judged.
EVENT_TOOL_CALL: Final = f"{DOMAIN}_tool_call"

# --- memory ---
# Agent options (memory.py): offer the memory tools, the bounds of each user's memory,
# and whether requests without a user (automations) may read and write it.
CONF_MEMORY: Final = "memory"
CONF_MEMORY_MAX_ENTRIES: Final = "memory_max_entries"
CONF_MEMORY_MAX_CHARS: Final = "memory_max_chars"
CONF_MEMORY_WITHOUT_USER: Final = "memory_without_user"
DEFAULT_MEMORY: Final = True
DEFAULT_MEMORY_MAX_ENTRIES: Final = 50  # per user
DEFAULT_MEMORY_MAX_CHARS: Final = 2000  # per user, all entries together
DEFAULT_MEMORY_WITHOUT_USER: Final = False
MEMORY_MAX_ENTRY_CHARS: Final = 300  # one fact
MEMORY_PROMPT_ENTRIES: Final = 10  # entries put into one prompt at most
MEMORY_SAVE_DELAY: Final = 10  # seconds
MEMORY_STORAGE_VERSION: Final = 1
SERVICE_MEMORY_LIST: Final = "memory_list"
SERVICE_MEMORY_FORGET: Final = "memory_forget"

# --- generate service ---
# extended_ollama_conversation.generate (services.py): one tool-less request.
SERVICE_GENERATE: Final = "generate"
ATTR_PROMPT: Final = "prompt"
ATTR_INSTRUCTIONS: Final = "instructions"
ATTR_AGENT: Final = "agent"
ATTR_MODEL: Final = "model"
ATTR_CONFIG_ENTRY: Final = "config_entry"
ATTR_INCLUDE_HOME_CONTEXT: Final = "include_home_context"
ATTR_STRUCTURE: Final = "structure"
ATTR_IMAGES: Final = "images"
ATTR_TIMEOUT: Final = "timeout"
# The system prompt when only the home's description is asked for.
GENERATE_HOME_INSTRUCTIONS: Final = (
    "Answer using the description of the home below. Be brief."
)

# --- routing and fallback ---
# Agent options (routing.py): a model on the agent's server per kind of request; all
# optional, and with none the agent's own model answers every request.
CONF_ROUTE_FAST: Final = "route_fast"
CONF_ROUTE_GENERAL: Final = "route_general"
CONF_ROUTE_CODE: Final = "route_code"
CONF_ROUTE_CREATIVE: Final = "route_creative"
# Agent options (fallback.py): another server entry of this integration that answers
# when the agent's own server cannot be reached, and the model to use there (empty: the
# model the turn would have used on the agent's own server).
CONF_FALLBACK_ENTRY: Final = "fallback_entry"
CONF_FALLBACK_MODEL: Final = "fallback_model"
# Fired after every turn that went to a model: which model and server answered.
EVENT_TURN: Final = f"{DOMAIN}_turn"

# --- agent figures and the turn event (agent_stats.py, turn_record.py) ---
# Agent option: the turn event and the diagnostics' last turns include the words said.
CONF_EVENT_INCLUDE_TEXT: Final = "event_include_text"
DEFAULT_EVENT_INCLUDE_TEXT: Final = False

# --- monitoring (coordinator.py, sensors, repairs) ---
# Server entry option: seconds between two reads of the server's version and models.
DEFAULT_SCAN_INTERVAL: Final = 60
MIN_SCAN_INTERVAL: Final = 10
MAX_SCAN_INTERVAL: Final = 3600
# Server entry option: minutes the server may stay unreachable before a repair says so
# (UNREACHABLE_ISSUE_MINUTES by default).
CONF_UNREACHABLE_MINUTES: Final = "unreachable_minutes"
UNREACHABLE_ISSUE_MINUTES: Final = 15
