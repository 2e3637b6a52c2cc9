"""docs/plugins.md documents every hook with its exact signature, and no hook that does not exist."""

import inspect
import re
from pathlib import Path

import studio.hookspecs as hookspecs

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def hook_functions():
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return {name: f for name, f in vars(hookspecs).items() if callable(f) and hasattr(f, marker)}


def signature_text(name, function) -> str:
    sig = inspect.signature(function)
    args = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{name}({args}) -> {sig.return_annotation}"


def test_there_are_hooks():
    assert {"register_panels", "register_model_kinds", "studio_started"} <= set(hook_functions())


def test_every_hook_is_documented_with_its_signature():
    documented = DOCS.read_text()
    for name, function in hook_functions().items():
        assert f"### `{signature_text(name, function)}`" in documented, f"{name} is missing from docs/plugins.md"
        assert inspect.getdoc(function), f"hookspec {name} has no docstring"


def test_no_stale_hooks_in_docs():
    documented = set(re.findall(r"^### `(\w+)\(", DOCS.read_text(), flags=re.M))
    assert documented == set(hook_functions())
