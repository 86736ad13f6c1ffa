"""Layers that point one way: every import in medrobotics_dagster/ goes to its own layer or a lower one.

From the bottom: `base` (settings, column types, faults, partitions, raw telemetry paths: no platform imports
above them); `resources` (databases, lake, queue); beside each other above resources, `synthetic` (the
source-data generator) and `io_managers`; `defs` (assets, checks, sensors, jobs); `composition` (each
environment's resource set, the code location); `commands` (the `medrobotics` CLI and what it runs). Code
outside the IO managers uses them only through their public API, the package `medrobotics_dagster.io_managers`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import medrobotics_dagster

PACKAGE = "medrobotics_dagster"
ROOT = Path(medrobotics_dagster.__file__).parent

# Layer of each module: the longest matching prefix of its dotted name (relative to the package) wins.
LAYER_OF_PREFIX = {
    "": "base",  # the package itself and the modules at its top, unless named below
    "resources": "resources",
    "synthetic": "synthetic",
    "io_managers": "io_managers",
    "defs": "defs",
    "environments": "composition",
    "definitions": "composition",
    "cli": "commands",
    "demo": "commands",
    "demo_console": "commands",
    "bench": "commands",
    "query": "commands",
    "materialize": "commands",
    "staleness": "commands",
    "local_instance": "commands",
}
# What each layer may import besides itself.
MAY_IMPORT = {
    "base": set(),
    "resources": {"base"},
    "synthetic": {"base", "resources"},
    "io_managers": {"base", "resources"},
    "defs": {"base", "resources", "io_managers"},
    "composition": {"base", "resources", "io_managers", "defs"},
    "commands": {"base", "resources", "synthetic", "io_managers", "defs", "composition"},
}
# The IO managers' public API: the only part of them that code above them names.
IO_MANAGERS_API = f"{PACKAGE}.io_managers"


def layer_of(module: str) -> str:
    parts = module.split(".")[1:]
    for length in range(len(parts), -1, -1):
        prefix = ".".join(parts[:length])
        if prefix in LAYER_OF_PREFIX:
            return LAYER_OF_PREFIX[prefix]
    raise AssertionError(f"{module} is in no layer")  # unreachable: "" matches every module


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(module: str, source: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, dotted name) of every platform module `source` imports, at any depth (lazy imports too).
    `from X import Y` counts as X.Y when that is a module, else as X."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append((node.lineno, candidate if _is_module(candidate) else base))
    return [(line, name) for line, name in found if name == PACKAGE or name.startswith(PACKAGE + ".")]


def _is_module(name: str) -> bool:
    path = ROOT.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """Each import of `source` that breaks a rule, as "module:line imports target: the rule"."""
    own = layer_of(module)
    out = []
    for line, target in imported_modules(module, source, is_package):
        theirs = layer_of(target)
        where = f"{module}:{line} imports {target}"
        if theirs != own and theirs not in MAY_IMPORT[own]:
            out.append(f"{where}: {own} may not import {theirs}")
        elif theirs == "io_managers" and own != "io_managers" and target != IO_MANAGERS_API:
            out.append(f"{where}: {own} may use io_managers only through {IO_MANAGERS_API}")
    return out


def platform_modules() -> list[tuple[str, Path]]:
    return [(module_name(path), path) for path in sorted(ROOT.rglob("*.py"))]


def test_every_import_points_down_the_layers():
    found = [
        problem
        for module, path in platform_modules()
        for problem in violations(module, path.read_text(), path.name == "__init__.py")
    ]
    assert not found, "\n".join(found)


def test_every_module_is_in_a_known_layer():
    assert {layer_of(module) for module, _ in platform_modules()} <= set(MAY_IMPORT)
    assert set(LAYER_OF_PREFIX.values()) == set(MAY_IMPORT)


@pytest.mark.parametrize(
    "module, source, rule",
    [
        (
            "medrobotics_dagster.io_managers.example",
            "from medrobotics_dagster.defs.telemetry import assets",
            "io_managers may not import defs",
        ),
        (
            "medrobotics_dagster.resources.example",
            "def later():\n    from medrobotics_dagster.io_managers import WarehouseIOManager",
            "resources may not import io_managers",
        ),
        ("medrobotics_dagster.settings", "import medrobotics_dagster.resources.lake", "base may not import resources"),
        (
            "medrobotics_dagster.defs.example",
            "from medrobotics_dagster.environments import resources_for_environment",
            "defs may not import composition",
        ),
        (
            "medrobotics_dagster.definitions",
            "from medrobotics_dagster import cli",
            "composition may not import commands",
        ),
        (
            "medrobotics_dagster.synthetic.example",
            "from medrobotics_dagster.defs.telemetry.raw_files import parse_key",
            "synthetic may not import defs",
        ),
        (
            "medrobotics_dagster.io_managers.example",
            "from ..defs.telemetry import assets",  # relative imports resolve like absolute ones
            "io_managers may not import defs",
        ),
        (
            "medrobotics_dagster.defs.telemetry.example",
            "from medrobotics_dagster.io_managers.audit_log import AuditRecord",
            "defs may use io_managers only through medrobotics_dagster.io_managers",
        ),
    ],
)
def test_an_import_up_the_layers_fails_naming_its_rule(module, source, rule):
    found = violations(module, source)
    assert len(found) == 1 and found[0].endswith(rule), found


@pytest.mark.parametrize(
    "module, source",
    [
        ("medrobotics_dagster.defs.example", "from medrobotics_dagster.io_managers import AuditRecord"),
        ("medrobotics_dagster.io_managers.example", "from medrobotics_dagster.io_managers import frames"),
        ("medrobotics_dagster.cli", "from medrobotics_dagster import settings\nimport os"),
        ("medrobotics_dagster.resources.example", "from medrobotics_dagster.faults import classify"),
    ],
)
def test_an_import_down_the_layers_passes(module, source):
    assert violations(module, source) == []
