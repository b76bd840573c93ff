"""The UI text a user reads: every key the code uses has English text in strings.json.

Home Assistant shows a raw key (or nothing) where a translation is missing, so each test
here reads what the code can show (translation keys in the source, services.yaml, the
flows' own schemas, steps and abort reasons) and looks for its text.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
import json
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import SelectSelector
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.extended_ollama_conversation import config_flow, const, repairs
from custom_components.extended_ollama_conversation.const import (
    CONF_EMBEDDING_MODEL,
    CONF_FALLBACK_ENTRY,
    DOMAIN,
    SUBENTRY_AI_TASK,
    SUBENTRY_CONVERSATION,
)
from custom_components.extended_ollama_conversation.routing_form import routing_fields
from custom_components.extended_ollama_conversation.subentry_flow import agent_schema

PACKAGE = (
    Path(__file__).parent.parent / "custom_components" / "extended_ollama_conversation"
)
STRINGS: dict[str, Any] = json.loads((PACKAGE / "strings.json").read_text())

# Which part of strings.json each flow class's steps, errors and aborts live in.
FLOW_SECTIONS: dict[str, list[dict[str, Any]]] = {
    "ExtendedOllamaConfigFlow": [STRINGS["config"]],
    "LimitsOptionsFlow": [STRINGS["options"]],
    "AgentSubentryFlow": [
        STRINGS["config_subentries"][SUBENTRY_CONVERSATION],
        STRINGS["config_subentries"][SUBENTRY_AI_TASK],
    ],
    "MissingModelFlow": [STRINGS["issues"]["model_missing"]["fix_flow"]],
    "ToolModelFlow": [STRINGS["issues"]["model_without_tools"]["fix_flow"]],
}
FLOW_BASES = {"ConfigFlow", "OptionsFlow", "ConfigSubentryFlow", "RepairsFlow"}


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(), str(path))


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _constant(node: ast.expr | None) -> str | None:
    """A string literal, or a constant of const.py named in the code."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and isinstance(getattr(const, node.id, None), str):
        return str(getattr(const, node.id))
    return None


def _kind(call: ast.Call, path: Path) -> str:
    """Where in strings.json the translation key of this call is looked up."""
    func = _name(call.func)
    keywords = {keyword.arg for keyword in call.keywords}
    if func == "async_create_issue":
        return "issues"
    if func == "SelectSelectorConfig":
        return "selector"
    if func.endswith("Description"):
        return "entity.binary_sensor" if "Binary" in func else "entity.sensor"
    if "translation_domain" in keywords:
        return "exceptions"
    raise AssertionError(f"{path.name}:{call.lineno}: unknown use of translation_key")


def used_translation_keys() -> dict[str, set[str]]:
    """Every translation_key in the package, by kind; keys passed through a helper too.

    `_invalid("image_not_allowed", source)` passes its first argument on as the key:
    the helper's calls are followed within its module.
    """
    used: dict[str, set[str]] = defaultdict(set)
    for path, tree in _sources():
        enclosing: dict[int, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                enclosing |= {id(node): function for node in ast.walk(function)}
        helpers: dict[str, tuple[int, str, str]] = {}
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            for keyword in call.keywords:
                if keyword.arg != "translation_key":
                    continue
                if (key := _constant(keyword.value)) is not None:
                    used[_kind(call, path)].add(key)
                    continue
                function = enclosing[id(call)]
                params = [arg.arg for arg in function.args.args]
                param = _name(keyword.value)
                assert param in params, f"{path.name}:{call.lineno}"
                helpers[function.name] = (params.index(param), param, _kind(call, path))
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or _name(call.func) not in helpers:
                continue
            index, param, kind = helpers[_name(call.func)]
            given = {k.arg: k.value for k in call.keywords}.get(param)
            if given is None and len(call.args) > index:
                given = call.args[index]
            if (key := _constant(given)) is not None:
                used[kind].add(key)
    return used


def test_english_translation_matches_strings() -> None:
    """Home Assistant shows translations/en.json; strings.json is its source."""
    english = json.loads((PACKAGE / "translations" / "en.json").read_text())
    assert english == STRINGS


def test_every_translation_key_in_the_code_has_text() -> None:
    """Exceptions, repairs, entities and selectors: no key without English text."""
    used = used_translation_keys()
    assert used["exceptions"] >= {"invalid_auth", "image_not_allowed", "not_json"}
    for key in used["exceptions"]:
        assert STRINGS["exceptions"][key]["message"], key
    for key in used["issues"]:
        issue = STRINGS["issues"][key]
        assert issue["title"], key
        assert issue.get("description") or issue.get("fix_flow"), key
    for platform in ("sensor", "binary_sensor"):
        for key in used[f"entity.{platform}"]:
            assert STRINGS["entity"][platform][key]["name"], key
    for key in used["selector"]:
        assert STRINGS["selector"][key]["options"], key
    # And no text is left over for a key the code no longer uses.
    assert set(STRINGS["exceptions"]) == used["exceptions"]
    assert set(STRINGS["issues"]) == used["issues"]
    for platform, keys in STRINGS["entity"].items():
        assert set(keys) == used[f"entity.{platform}"], platform


def test_every_service_and_field_has_a_name_and_description() -> None:
    """The action editor shows each service of services.yaml and its fields by name."""
    services = load_yaml_dict(str(PACKAGE / "services.yaml"))
    registered = {v for k, v in vars(const).items() if k.startswith("SERVICE_")}
    assert set(services) == registered == set(STRINGS["services"])
    for service, spec in services.items():
        text = STRINGS["services"][service]
        assert text["name"], service
        assert text["description"], service
        assert set(text["fields"]) == set(spec.get("fields", {})), service
        for field, field_text in text["fields"].items():
            assert field_text["name"], (service, field)
            assert field_text["description"], (service, field)


def _flow_classes() -> Iterator[tuple[ast.ClassDef, ast.Module]]:
    for _path, tree in _sources():
        for node in tree.body:
            bases = {_name(base) for base in getattr(node, "bases", [])}
            if isinstance(node, ast.ClassDef) and bases & FLOW_BASES:
                yield node, tree


def _module_error_returns(tree: ast.Module) -> set[str]:
    """Form errors a module's `..._error` helpers return, as `_connection_error` does."""
    return {
        value
        for function in tree.body
        if isinstance(function, ast.AsyncFunctionDef | ast.FunctionDef)
        and function.name.endswith("_error")
        for node in ast.walk(function)
        if isinstance(node, ast.Return) and (value := _constant(node.value)) is not None
    }


def _shown(flow: ast.ClassDef, tree: ast.Module) -> dict[str, set[str]]:
    """Step ids, menu options, progress actions, abort reasons and errors a flow shows."""
    shown: dict[str, set[str]] = defaultdict(set)
    methods = {n.name for n in flow.body if isinstance(n, ast.AsyncFunctionDef)}
    for call in (n for n in ast.walk(flow) if isinstance(n, ast.Call)):
        func = _name(call.func)
        for keyword in call.keywords:
            value = _constant(keyword.value)
            if keyword.arg == "step_id" and value:
                shown["step"].add(value)
            elif keyword.arg == "progress_action" and value:
                shown["progress"].add(value)
            elif keyword.arg == "reason" and value:
                shown["abort"].add(value)
            elif keyword.arg == "menu_options" and isinstance(keyword.value, ast.List):
                shown["menu"] |= {str(_constant(e)) for e in keyword.value.elts}
            elif keyword.arg == "errors":  # a dict, also one chosen by an if-else
                shown["error"] |= {
                    v
                    for d in ast.walk(keyword.value)
                    if isinstance(d, ast.Dict)
                    for e in d.values
                    if (v := _constant(e)) is not None
                }
        if func == "_async_abort_entries_match":
            shown["abort"].add("already_configured")
        if "update_and_abort" in func or "update_reload_and_abort" in func:
            shown["abort"].add("reconfigure_successful")
            if "async_step_reauth" in methods:
                shown["abort"].add("reauth_successful")
    for node in ast.walk(flow):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            target = node.targets[0].value
            if _name(target) == "errors" and (value := _constant(node.value)):
                shown["error"].add(value)
    if shown["error"] or "_connection_error" in ast.unparse(flow):
        shown["error"] |= _module_error_returns(tree)
    return shown


def test_every_flow_step_abort_and_error_has_text() -> None:
    """Config, options, subentry and repair flows: each thing they show is worded."""
    flows = list(_flow_classes())
    assert {flow.name for flow, _tree in flows} == set(FLOW_SECTIONS)
    for flow, tree in flows:
        shown = _shown(flow, tree)
        assert shown["step"], flow.name
        for section in FLOW_SECTIONS[flow.name]:
            for step in shown["step"]:
                assert step in section["step"], (flow.name, step)
            for action in shown["progress"]:
                assert section["progress"][action], (flow.name, action)
            for reason in shown["abort"]:
                assert section["abort"][reason], (flow.name, reason)
            for error in shown["error"]:
                assert section["error"][error], (flow.name, error)
            for option in shown["menu"]:
                assert any(
                    option in step.get("menu_options", {})
                    for step in section["step"].values()
                ), (flow.name, option)
    config = next((f, t) for f, t in flows if f.name == "ExtendedOllamaConfigFlow")
    assert _shown(*config)["error"] >= {"cannot_connect", "invalid_auth", "invalid_url"}


def _assert_fields_worded(schema: Any, step: dict[str, Any], where: str) -> None:
    """Each field of a form has a label; each description belongs to a field."""
    fields = {str(marker) for marker in schema.schema}
    assert fields, where
    missing = fields - set(step.get("data", {}))
    assert not missing, f"{where}: no label for {sorted(missing)}"
    stray = set(step.get("data_description", {})) - fields
    assert not stray, f"{where}: descriptions of no field {sorted(stray)}"


def _select_translation_keys(schema: Any) -> Iterator[tuple[str, list[str]]]:
    for selector in schema.schema.values():
        config = selector.config if isinstance(selector, SelectSelector) else {}
        if key := config.get("translation_key"):
            yield key, [str(option) for option in config["options"]]


def test_server_forms_have_a_label_for_every_field() -> None:
    """Adding, reconfiguring and re-authenticating a server."""
    steps = STRINGS["config"]["step"]
    for step_id, schema in (
        ("user", config_flow.USER_SCHEMA),
        ("reconfigure", config_flow.RECONFIGURE_SCHEMA),
        ("reauth_confirm", config_flow.REAUTH_SCHEMA),
    ):
        _assert_fields_worded(schema, steps[step_id], step_id)


async def test_options_and_agent_forms_have_a_label_for_every_field(
    hass: HomeAssistant,
) -> None:
    """The limits, an agent's and an AI task's options, and the repairs' model choice.

    The agent form is built with every optional field shown (an embedding model on the
    server, a fallback server chosen).
    """
    entry = MockConfigEntry(domain=DOMAIN, data={}, title="Ollama")
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    _assert_fields_worded(
        result["data_schema"], STRINGS["options"]["step"]["init"], "options"
    )
    options = {CONF_EMBEDDING_MODEL: "nomic-embed-text", CONF_FALLBACK_ENTRY: "other"}
    for subentry_type in (SUBENTRY_CONVERSATION, SUBENTRY_AI_TASK):
        schema = agent_schema(
            hass,
            subentry_type,
            options,
            [],
            is_new=True,
            embedding_models=["nomic-embed-text"],
        )
        if subentry_type == SUBENTRY_CONVERSATION:
            schema = schema.extend(routing_fields(hass, "this", options, []))
        subentry = STRINGS["config_subentries"][subentry_type]
        _assert_fields_worded(schema, subentry["step"]["set_options"], subentry_type)
        for key, choices in _select_translation_keys(schema):
            assert set(STRINGS["selector"][key]["options"]) == set(choices), key
    for issue in ("model_missing", "model_without_tools"):
        pick = STRINGS["issues"][issue]["fix_flow"]["step"]["pick"]
        _assert_fields_worded(repairs._model_schema([]), pick, issue)


@pytest.mark.parametrize(
    "section", ["exceptions", "issues", "config", "config_subentries", "services"]
)
def test_placeholders_are_written_as_home_assistant_reads_them(section: str) -> None:
    """A placeholder is {name}: a stray brace or an empty one would show as text."""

    def texts(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for child in node.values():
                yield from texts(child)
        elif isinstance(node, str):
            yield node

    for text in texts(STRINGS[section]):
        assert text.strip(), section
        bare = re.sub(r"\{[a-z_]+\}", "", text)
        assert "{" not in bare, text
        assert "}" not in bare, text
