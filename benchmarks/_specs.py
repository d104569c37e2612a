"""Command-line specs of the benchmarks: ``name`` or ``name(key=value, ...)``, comma-separated."""

from __future__ import annotations

import ast
from typing import Any


def split_specs(text: str) -> list[str]:
    """Split a comma-separated list of specs at the commas outside parentheses."""
    specs, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in "([{") - (char in ")]}")
        if char == "," and depth == 0:
            specs.append(text[start:i])
            start = i + 1
    specs.append(text[start:])
    return [spec.strip() for spec in specs if spec.strip()]


def parse_spec(spec: str) -> tuple[str, dict[str, Any] | None]:
    """``"name"`` -> ``("name", None)``; ``"name(a=1, b='x')"`` -> ``("name", {...})``."""
    try:
        node = ast.parse(spec, mode="eval").body
    except SyntaxError as error:
        raise ValueError(f"Cannot parse {spec!r}.") from error
    if isinstance(node, ast.Name):
        return node.id, None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and not node.args
        and all(keyword.arg is not None for keyword in node.keywords)
    ):
        try:
            kwargs = {str(kw.arg): ast.literal_eval(kw.value) for kw in node.keywords}
        except ValueError as error:
            raise ValueError(f"The arguments of {spec!r} must be Python literals.") from error
        return node.func.id, kwargs
    raise ValueError(f"Expected a name or name(key=value, ...), but got {spec!r}.")
