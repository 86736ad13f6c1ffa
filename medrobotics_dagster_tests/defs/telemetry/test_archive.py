"""The optional archive: processed raw files move to archive/telemetry/dt=<day>/, reruns read them from there, and
the sensor, which lists raw/ only, never takes them for new files."""

import dagster as dg

from medrobotics_dagster.defs.telemetry.sensor import raw_telemetry_sensor
from medrobotics_dagster_tests.database import query
from medrobotics_dagster_tests.defs.telemetry.test_telemetry_assets import DAY, lines

ARCHIVE = {"ops": {"telemetry_samples": {"config": {"archive_processed_files": True, "error_budget": 0.5}}}}


def keys(lake, prefix: str) -> list[str]:
    return sorted(obj.key for obj in lake.list(prefix))


def test_processed_files_move_to_the_archive_and_a_rerun_reads_them_from_there(any_world):
    any_world.put("PROC-A", DAY, lines("PROC-A", DAY, range(3)))
    any_world.put("PROC-B", DAY, lines("PROC-B", DAY, range(2)) + [b"not json"])
    assert any_world.materialize(DAY.isoformat(), run_config=ARCHIVE).success
    assert keys(any_world.lake, "raw/telemetry/") == []
    assert keys(any_world.lake, "archive/telemetry/") == [
        "archive/telemetry/dt=2024-01-15/procedure-PROC-A/20240115.json",
        "archive/telemetry/dt=2024-01-15/procedure-PROC-B/20240115.json",
    ]
    fact, quarantine = any_world.fact(DAY), any_world.quarantine(DAY)
    assert len(fact) == 5 and len(quarantine) == 1
    assert quarantine[0][1] == "raw/telemetry/procedure-PROC-B/20240115.json"  # the contract key, stable across reruns
    audit = query(
        any_world.warehouse_url,
        "SELECT asset_key, rows_read, rows_loaded, rows_quarantined FROM audit.etl_audit_log ORDER BY asset_key",
    )
    assert [row for row in audit if row[0].startswith(("lake/", "warehouse/"))] == [
        ("lake/telemetry_samples", 6, 5, 1),
        ("warehouse/fact_procedure_telemetry", 5, 5, 0),
        ("warehouse/telemetry_quarantine", 1, 1, 1),  # its rows are quarantined lines
    ]
    assert any_world.materialize(DAY.isoformat(), run_config=ARCHIVE).success  # a rerun of an archived day
    assert any_world.fact(DAY) == fact and any_world.quarantine(DAY) == quarantine


def test_a_file_sent_again_after_archiving_wins_over_its_archived_copy(world):
    world.put("PROC-A", DAY, lines("PROC-A", DAY, range(3)))
    assert world.materialize(DAY.isoformat(), run_config=ARCHIVE).success
    world.put("PROC-A", DAY, lines("PROC-A", DAY, range(10, 12)))  # a corrected resend of the same key
    assert world.materialize(DAY.isoformat()).success
    assert len(world.fact(DAY)) == 2


def test_the_sensor_does_not_take_archived_files_for_new_ones(world):
    world.put("PROC-A", DAY, lines("PROC-A", DAY, range(3)))
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources={"lake": world.lake})
    first = raw_telemetry_sensor(context)
    assert [r.partition_key for r in first.run_requests] == [DAY.isoformat()]
    assert world.materialize(DAY.isoformat(), run_config=ARCHIVE).success
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(), cursor=first.cursor, resources={"lake": world.lake}
    )
    assert raw_telemetry_sensor(context).run_requests == []
