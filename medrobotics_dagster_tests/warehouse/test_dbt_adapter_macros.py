"""The dbt adapter dagster-dbt opens in each dbt step gets its macros parsed once per process, until one changes."""

import os
import shutil
import time

from medrobotics_dagster.defs.warehouse.dbt_parse_state import put_dbt_on_path
from medrobotics_dagster.defs.warehouse.dbt_project import ProjectDbtCliResource
from medrobotics_dagster_tests.warehouse.conftest import SQL_DIR


def _macros_of(resource: ProjectDbtCliResource):
    adapter = resource._initialize_dbt_core_adapter([]).result()
    return adapter._macro_resolver


def test_macros_are_parsed_once_per_process_and_again_after_a_macro_file_changes(tmp_path):
    project = tmp_path / "sql"
    shutil.copytree(SQL_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    put_dbt_on_path()
    resource = ProjectDbtCliResource(project_dir=str(project))

    first = _macros_of(resource)
    assert "macro.medrobotics.varchar_chars" in first.macros  # the project's own macros, not only dbt's
    assert _macros_of(resource) is first

    macro = project / "macros" / "string_lengths.sql"
    macro.write_text(macro.read_text() + "\n{% macro added_for_this_test() %}1{% endmacro %}\n")
    later = time.time() + 2
    os.utime(macro, (later, later))
    changed = _macros_of(resource)
    assert changed is not first
    assert "macro.medrobotics.added_for_this_test" in changed.macros
