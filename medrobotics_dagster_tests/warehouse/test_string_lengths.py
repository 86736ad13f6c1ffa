"""Every string length of the dbt models comes from one macro, sized in bytes on Redshift by the rule the Python
loaders use (column_types.redshift_varchar_bytes), and none is written by hand."""

from __future__ import annotations

import json

import pytest
import yaml

from medrobotics_dagster import column_types
from medrobotics_dagster_tests.redshift_rules import check_dbt_source
from medrobotics_dagster_tests.warehouse.dbt_offline import SQL_DIR, render_inline

LENGTHS = [1, 2, 10, 50, 100, 16383, 16384, 16385, 65535, None]
RENDER = "{{ tojson([" + ", ".join(f"varchar_chars({'none' if n is None else n})" for n in LENGTHS) + "]) }}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, list[str]]:
    work = tmp_path_factory.mktemp("lengths")
    return {target: json.loads(render_inline(RENDER, target, work / target)) for target in ("redshift", "postgres")}


def test_redshift_sizes_every_length_in_bytes_like_the_python_loaders(rendered):
    expected = [f"varchar({column_types.redshift_varchar_bytes(n)})" for n in LENGTHS]
    assert [text.strip() for text in rendered["redshift"]] == expected


def test_postgres_keeps_lengths_in_characters(rendered):
    assert [text.strip() for text in rendered["postgres"]] == [f"varchar({n})" if n else "varchar" for n in LENGTHS]


def test_the_dbt_vars_are_the_python_constants():
    project_vars = yaml.safe_load((SQL_DIR / "dbt_project.yml").read_text())["vars"]
    assert project_vars["utf8_max_bytes_per_char"] == column_types.UTF8_MAX_BYTES_PER_CHAR
    assert project_vars["redshift_max_varchar_bytes"] == column_types.REDSHIFT_MAX_VARCHAR_BYTES


@pytest.mark.parametrize(
    "path",
    sorted(p for d in ("models", "snapshots", "analyses", "tests", "macros") for p in (SQL_DIR / d).rglob("*.sql")),
    ids=lambda p: str(p.relative_to(SQL_DIR)),
)
def test_no_dbt_source_writes_a_string_length_by_hand(path):
    assert check_dbt_source(path.read_text(), str(path.relative_to(SQL_DIR))) == []
