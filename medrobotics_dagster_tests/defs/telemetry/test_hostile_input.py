"""Hostile file keys and values (quotes, semicolons, backslashes, NUL bytes, very long strings) through the sensor
and the telemetry load: they reach SQL only quoted or as data, the tables survive, every line is accounted for."""

import json

import dagster as dg

from medrobotics_dagster.defs.telemetry.sensor import raw_telemetry_sensor
from medrobotics_dagster_tests.database import query
from medrobotics_dagster_tests.defs.telemetry.test_telemetry_assets import DAY, sample

HOSTILE_IDS = [
    "PROC-A'; DROP TABLE analytics.fact_procedure_telemetry; --",
    'PROC-"quoted"',
    "PROC-semi;colon",
    "PROC-" + "x" * 5000,
]


def line(doc: dict) -> bytes:
    return json.dumps(doc).encode()


def test_hostile_keys_and_values_are_quarantined_and_the_tables_survive(any_world):
    keys = []
    for pid in HOSTILE_IDS[:3]:
        keys.append(any_world.put(pid, DAY, [line(sample(pid, DAY, 1))]))
    any_world.put(
        "PROC-A",
        DAY,
        [
            line(sample("PROC-A", DAY, 2)),
            line(sample("PROC-A", DAY, 3, robot_id="R\u0000B\\'; --")),
            line(sample(HOSTILE_IDS[3], DAY, 4)),
        ],
    )
    result = any_world.materialize(
        DAY.isoformat(), run_config={"ops": {"telemetry_samples": {"config": {"error_budget": 1.0}}}}
    )
    assert result.success
    fact = query(any_world.warehouse_url, "SELECT procedure_id, robot_id FROM analytics.fact_procedure_telemetry")
    assert fact == [("PROC-A", "ROB-007")]
    rows = query(
        any_world.warehouse_url,
        "SELECT source_key, reason, raw_line FROM analytics.telemetry_quarantine ORDER BY source_key, line_number",
    )
    assert {key for key, _, _ in rows} >= set(keys)
    assert any("NUL" in reason for _, reason, _ in rows)
    assert any(reason.startswith("procedure_id 'PROC-xxxx") for _, reason, _ in rows)  # the 5,000-character id
    assert all(raw is None or (len(raw) <= 1000 and "\x00" not in raw) for _, _, raw in rows)
    assert len(rows) == 5  # three hostile files + the NUL robot + the long id: nothing lost, nothing extra


def test_the_sensor_requests_hostile_keys_by_day_and_skips_keys_the_lake_cannot_read(any_world):
    any_world.put(HOSTILE_IDS[0], DAY, [b"{}"])
    # a key the lake refuses to address (a backslash), written behind the Lake's back as a foreign uploader could
    any_world.lake.backend.put("raw/telemetry/procedure-PROC-back\\slash/20240116.json", b"{}\n")
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources={"lake": any_world.lake})
    result = raw_telemetry_sensor(context)
    assert [r.partition_key for r in result.run_requests] == [DAY.isoformat()]
    # and the load of that day does not trip over the unreadable key
    assert any_world.materialize(DAY.replace(day=16).isoformat()).success
