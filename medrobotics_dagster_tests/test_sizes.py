"""Sizes a reader takes in at once: no module in medrobotics_dagster/ over 300 lines, no function over 60 (from its
`def` line to its last line, decorators aside)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import medrobotics_dagster

ROOT = Path(medrobotics_dagster.__file__).parent
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60


def oversized(name: str, source: str) -> list[str]:
    """Each way `source` breaks a size rule, naming the rule."""
    problems = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES:
        problems.append(f"{name}: {lines} lines; a module may have at most {MAX_MODULE_LINES}")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                where = f"{name}:{node.lineno} {node.name}"
                problems.append(f"{where}: {length} lines; a function may have at most {MAX_FUNCTION_LINES}")
    return problems


def test_no_module_or_function_is_over_its_size():
    found = [
        problem
        for path in sorted(ROOT.rglob("*.py"))
        for problem in oversized(str(path.relative_to(ROOT.parent)), path.read_text())
    ]
    assert not found, "\n".join(found)


def _function(lines: int) -> str:
    return "def long():\n" + "    x = 1\n" * (lines - 1)


@pytest.mark.parametrize(
    "source, rule",
    [
        ("x = 1\n" * 301, "a module may have at most 300"),
        (_function(61), "a function may have at most 60"),
        ("class C:\n    async " + _function(61).replace("\n    ", "\n        "), "a function may have at most 60"),
    ],
)
def test_an_oversized_module_or_function_fails_naming_its_rule(source, rule):
    found = oversized("example.py", source)
    assert len(found) == 1 and found[0].endswith(rule), found


@pytest.mark.parametrize("source", ["x = 1\n" * 300, _function(60)])
def test_sizes_at_the_limit_pass(source):
    assert oversized("example.py", source) == []
