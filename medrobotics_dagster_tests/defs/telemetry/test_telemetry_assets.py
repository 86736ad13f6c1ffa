"""The telemetry assets through Dagster, on real PostgreSQL and a real lake (a directory, and moto S3 over HTTP):
raw files -> lake/telemetry_samples (Parquet) -> warehouse/fact_procedure_telemetry, with the quarantine."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta

import dagster as dg
import pyarrow.parquet as pq

from medrobotics_dagster.column_types import arrow_schema
from medrobotics_dagster.defs.telemetry.assets import (
    BUDGET_CHECK,
    FACT_KEY,
    QUARANTINE_KEY,
    SAMPLES_KEY,
    UNKNOWN_FIELDS_CHECK,
    stable_procedure_key,
)
from medrobotics_dagster.defs.telemetry.schema import FACT_COLUMNS
from medrobotics_dagster_tests.database import query
from medrobotics_dagster_tests.defs.telemetry.telemetry_world import World, extract_procedures, seed_source

DAY = date(2024, 1, 15)


# ---------------------------------------------------------------------------------------------- lines


def stamp(day: date, second: int, hour: int = 10) -> str:
    moment = datetime(day.year, day.month, day.day, hour) + timedelta(seconds=second)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def sample(procedure_id: str, day: date, second: int, **overrides) -> dict:
    doc = {
        "procedure_id": procedure_id,
        "robot_id": "ROB-007",
        "sample_timestamp": stamp(day, second),
        "arm_position": {"x": 12.3456 + second, "y": -3.2101, "z": 101.0021},
        "arm_rotation": {"x": 0.1234, "y": 1.5678, "z": -0.4321},
        "force_feedback": 2.3456,
        "tool": {"type": "grasper", "active": True},
        "camera": {"zoom": 1.50, "lighting_level": 80},
        "system": {"temperature": 36.75, "motor_current": 1.2345, "network_latency_ms": 12, "video_fps": 60},
    }
    doc.update(overrides)
    return doc


def lines(procedure_id: str, day: date, seconds, **overrides) -> list[bytes]:
    return [json.dumps(sample(procedure_id, day, s, **overrides)).encode() for s in seconds]


def budget(share: float) -> dict:
    return {"ops": {"telemetry_samples": {"config": {"error_budget": share}}}}


def by_partition(result: dg.ExecuteInProcessResult, key: dg.AssetKey) -> dict[str, dict]:
    """The metadata of each partition's materialization of the key."""
    events = [m for m in result.get_asset_materialization_events() if m.asset_key == key]
    assert events, f"{key.to_user_string()}: no materialization"
    return {e.partition: {name: value.value for name, value in e.materialization.metadata.items()} for e in events}


def materialization(result: dg.ExecuteInProcessResult, key: dg.AssetKey):
    """The metadata of the key's one materialization (a one-day run)."""
    [metadata] = by_partition(result, key).values()
    return metadata


def check(result: dg.ExecuteInProcessResult, name: str):
    evaluations = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    assert len(evaluations) == 1, f"{name}: {len(evaluations)} evaluation(s)"
    return evaluations[0]


def mixed_day(world: World) -> dict:
    """A day with good files, a file with bad lines among good ones, and files that are all bad."""
    good_a = world.put("PROC-A", DAY, lines("PROC-A", DAY, range(20)))
    mixed = lines("PROC-B", DAY, range(20))
    mixed[4] = mixed[4][:30]  # truncated
    mixed[9] = json.dumps(sample("PROC-B", DAY, 9, tool={"type": "grasper", "active": "yes"})).encode()
    drift = sample("PROC-B", DAY, 15, firmware="4.2")
    mixed[15] = json.dumps(drift).encode()
    mixed_key = world.put("PROC-B", DAY, mixed, gz=True)
    unknown_key = world.put("PROC-ZZZ", DAY, lines("PROC-ZZZ", DAY, range(2)))
    world.lake.put(
        "raw/telemetry/procedure-PROC-OLD/20240115.json",
        b"this is not json\n" + b"\n".join(lines("PROC-OLD", DAY, range(57, 60))) + b"\n",
    )
    return {
        "good": good_a,
        "mixed": mixed_key,
        "unknown": unknown_key,
        "old": "raw/telemetry/procedure-PROC-OLD/20240115.json",
    }


# ---------------------------------------------------------------------------------------------- tests


def test_a_day_of_good_and_bad_files_loads_the_good_rows_and_quarantines_the_rest(any_world):
    world = any_world
    keys = mixed_day(world)
    result = world.materialize(DAY.isoformat(), run_config=budget(0.2))
    assert result.success

    fact = query(
        world.warehouse_url,
        "SELECT procedure_id, count(*), count(DISTINCT telemetry_key), min(sample_timestamp), max(sample_timestamp) "
        "FROM analytics.fact_procedure_telemetry GROUP BY procedure_id ORDER BY procedure_id",
    )
    assert fact == [
        ("PROC-A", 20, 20, datetime(2024, 1, 15, 10, 0, 0), datetime(2024, 1, 15, 10, 0, 19)),
        ("PROC-B", 18, 18, datetime(2024, 1, 15, 10, 0, 0), datetime(2024, 1, 15, 10, 0, 19)),
        ("PROC-OLD", 3, 3, datetime(2024, 1, 15, 10, 0, 57), datetime(2024, 1, 15, 10, 0, 59)),
    ]
    # the drifted line loaded, its unknown field kept
    extra = query(
        world.warehouse_url,
        "SELECT extra_fields::text FROM analytics.fact_procedure_telemetry WHERE extra_fields IS NOT NULL",
    )
    assert [json.loads(row[0]) for row in extra] == [{"firmware": "4.2"}]
    # procedure_key joins fact_procedures: the dbt macro stable_bigint_key computed by PostgreSQL
    assert query(
        world.warehouse_url,
        "SELECT count(*) FROM analytics.fact_procedure_telemetry "
        "WHERE procedure_key <> cast(('x' || left(md5(cast(procedure_id as varchar)), 15))::bit(60) as bigint)",
    ) == [(0,)]
    assert {
        row[0]: row[1]
        for row in query(
            world.warehouse_url, "SELECT DISTINCT procedure_id, procedure_key FROM analytics.fact_procedure_telemetry"
        )
    } == {pid: stable_procedure_key(pid) for pid in ("PROC-A", "PROC-B", "PROC-OLD")}
    # timestamp_key in the facility's local time: 10:00 UTC is 05:00 in New York, 11:00 in Berlin
    assert query(
        world.warehouse_url,
        "SELECT procedure_id, min(timestamp_key), max(timestamp_key) "
        "FROM analytics.fact_procedure_telemetry GROUP BY 1 ORDER BY 1",
    ) == [("PROC-A", 50000, 50000), ("PROC-B", 110000, 110000), ("PROC-OLD", 50000, 50000)]

    quarantine = query(
        world.warehouse_url,
        "SELECT partition_start, length(load_id) > 0, source_key, line_number, reason, raw_line IS NOT NULL "
        "FROM analytics.telemetry_quarantine ORDER BY source_key, line_number",
    )
    assert [(q[0], q[1], q[2], q[3], q[5]) for q in quarantine] == [
        (datetime(2024, 1, 15), True, keys["mixed"], 5, True),
        (datetime(2024, 1, 15), True, keys["mixed"], 10, True),
        (datetime(2024, 1, 15), True, keys["old"], 1, True),
        (datetime(2024, 1, 15), True, keys["unknown"], 1, True),
        (datetime(2024, 1, 15), True, keys["unknown"], 2, True),
    ]
    reasons = [q[4] for q in quarantine]
    assert "JSON" in reasons[0] and "tool.active" in reasons[1] and "JSON" in reasons[2]
    assert "unknown procedure" in reasons[3] and "PROC-ZZZ" in reasons[3]
    load_ids = query(world.warehouse_url, "SELECT DISTINCT load_id FROM analytics.telemetry_quarantine")
    assert len(load_ids) == 1

    metadata = materialization(result, SAMPLES_KEY)
    assert metadata["files_read"] == 4
    assert metadata["lines_read"] == 20 + 20 + 2 + 4
    assert metadata["rows_loaded"] == 41
    assert metadata["lines_quarantined"] == 5
    assert metadata["load_id"] == load_ids[0][0]
    assert materialization(result, FACT_KEY)["dagster/row_count"] == 41
    assert materialization(result, QUARANTINE_KEY)["dagster/row_count"] == 5

    # 5 of 46 lines rejected: 10.9%, within a 20% budget
    within = check(result, BUDGET_CHECK)
    assert within.passed is True
    assert within.metadata["lines_read"].value == 46 and within.metadata["lines_quarantined"].value == 5
    unknown = check(result, UNKNOWN_FIELDS_CHECK)
    assert unknown.passed is False
    assert unknown.metadata["unknown_fields"].value == {"firmware": 1}


def test_a_clean_day_passes_both_checks_and_reports_its_counts(any_world):
    world = any_world
    world.put("PROC-A", DAY, lines("PROC-A", DAY, range(30)))
    world.put("PROC-B", DAY, lines("PROC-B", DAY, range(10)), gz=True)
    result = world.materialize(DAY.isoformat())
    assert result.success
    metadata = materialization(result, SAMPLES_KEY)
    assert (metadata["files_read"], metadata["lines_read"], metadata["rows_loaded"], metadata["lines_quarantined"]) == (
        2,
        40,
        40,
        0,
    )
    assert check(result, BUDGET_CHECK).passed is True
    assert check(result, UNKNOWN_FIELDS_CHECK).passed is True
    assert query(world.warehouse_url, "SELECT count(*) FROM analytics.fact_procedure_telemetry") == [(40,)]
    assert query(world.warehouse_url, "SELECT count(*) FROM analytics.telemetry_quarantine") == [(0,)]


def test_rerunning_a_day_three_times_leaves_identical_tables(any_world):
    world = any_world
    mixed_day(world)
    world.put("PROC-C", DAY + timedelta(days=1), lines("PROC-C", DAY + timedelta(days=1), range(5)))
    config = budget(0.5)
    assert world.materialize("2024-01-16", run_config=config).success  # a neighbour day that must stay untouched
    snapshots = []
    for _ in range(3):
        assert world.materialize(DAY.isoformat(), run_config=config).success
        snapshots.append((world.fact(), world.quarantine()))
    assert snapshots[0][0] and snapshots[0][1]
    assert snapshots[0] == snapshots[1] == snapshots[2]
    fact = snapshots[0][0]
    assert len({row[0] for row in fact}) == len(fact)  # no duplicate telemetry_key
    assert len(world.fact(DAY + timedelta(days=1))) == 5
    assert query(world.warehouse_url, "SELECT count(DISTINCT load_id) FROM analytics.telemetry_quarantine") == [(1,)]


def test_an_overwritten_file_replaces_the_days_rows_without_duplicates(world):
    key = world.put("PROC-A", DAY, lines("PROC-A", DAY, range(10)))
    world.put("PROC-B", DAY, lines("PROC-B", DAY, range(5)))
    assert world.materialize(DAY.isoformat()).success
    assert len(world.fact(DAY)) == 15
    # same key, new content: samples 5..14 (5..9 overlap, with other values)
    assert world.put("PROC-A", DAY, lines("PROC-A", DAY, range(5, 15), force_feedback=9.5)) == key
    assert world.materialize(DAY.isoformat()).success
    rows = query(
        world.warehouse_url,
        "SELECT sample_timestamp, force_feedback "
        "FROM analytics.fact_procedure_telemetry WHERE procedure_id = 'PROC-A' ORDER BY 1",
    )
    assert [r[0] for r in rows] == [datetime(2024, 1, 15, 10, 0, s) for s in range(5, 15)]
    assert {str(r[1]) for r in rows} == {"9.5000"}
    assert query(
        world.warehouse_url, "SELECT count(*), count(DISTINCT telemetry_key) FROM analytics.fact_procedure_telemetry"
    ) == [(15, 15)]


def test_a_day_over_the_error_budget_fails_and_the_fact_keeps_its_previous_rows(world):
    world.put("PROC-A", DAY, lines("PROC-A", DAY, range(10)))
    assert world.materialize(DAY.isoformat()).success
    before = world.fact(DAY)
    assert len(before) == 10
    neighbour = DAY + timedelta(days=1)
    world.put("PROC-C", neighbour, lines("PROC-C", neighbour, range(3)))
    assert world.materialize(neighbour.isoformat()).success

    # the file is replaced by one with 1 good line in 4
    world.put("PROC-A", DAY, lines("PROC-A", DAY, range(20, 21)) + [b"{broken", b"not json", b"[]"])
    result = world.materialize(DAY.isoformat(), run_config=budget(0.05))
    assert not result.success
    over = check(result, BUDGET_CHECK)
    assert over.passed is False
    assert over.metadata["days_over_budget"].value == {DAY.isoformat(): 0.75}
    assert not [m for m in result.get_asset_materialization_events() if m.asset_key == FACT_KEY]
    assert world.fact(DAY) == before  # previous rows, not the one new good line
    assert len(world.fact(neighbour)) == 3
    # the audit log says so: the samples and quarantine of the day, and the fact blocked with the figures
    audit = query(
        world.warehouse_url,
        "SELECT asset_key, status, rows_loaded, rows_quarantined, error_class, error_message FROM audit.etl_audit_log "
        "WHERE run_id = %s ORDER BY asset_key",
        (result.run_id,),
    )
    assert audit == [
        ("lake/telemetry_samples", "succeeded", 1, 3, None, None),
        (
            "warehouse/fact_procedure_telemetry",
            "blocked",
            0,
            3,
            BUDGET_CHECK,
            "2024-01-15: 3 of 4 line(s) rejected (75.0%), over the 5.0% error budget; the fact keeps its previous rows",
        ),
        ("warehouse/telemetry_quarantine", "succeeded", 3, 3, None, None),
    ]


def test_a_range_run_with_one_day_over_the_budget_records_every_days_fact_as_blocked(world):
    neighbour = DAY + timedelta(days=1)
    world.put("PROC-A", DAY, lines("PROC-A", DAY, range(1)) + [b"{broken", b"not json"])
    world.put("PROC-C", neighbour, lines("PROC-C", neighbour, range(4)))
    tags = {"dagster/asset_partition_range_start": DAY.isoformat(), "dagster/asset_partition_range_end": "2024-01-16"}
    result = world.materialize(tags=tags, run_config=budget(0.05))
    assert not result.success
    assert not [m for m in result.get_asset_materialization_events() if m.asset_key == FACT_KEY]  # whole run blocked
    audit = query(
        world.warehouse_url,
        "SELECT partition_start::date, status, rows_quarantined, error_message FROM audit.etl_audit_log "
        "WHERE run_id = %s AND asset_key = 'warehouse/fact_procedure_telemetry' ORDER BY 1",
        (result.run_id,),
    )
    assert audit == [
        (
            DAY,
            "blocked",
            2,
            "2024-01-15: 2 of 3 line(s) rejected (66.7%), over the 5.0% error budget; the fact keeps its previous rows",
        ),
        (
            neighbour,
            "blocked",
            0,
            "2024-01-16: within the error budget, but 2024-01-15 of the same run is not; "
            "the fact keeps the day's previous rows",
        ),
    ]


def test_a_range_of_days_in_one_run_loads_each_day_exactly(world):
    days = [date(2024, 1, 15), date(2024, 1, 16), date(2024, 1, 17)]
    expected = {}
    world.put("PROC-A", days[0], lines("PROC-A", days[0], range(7)))
    world.put("PROC-B", days[0], lines("PROC-B", days[0], range(3)), gz=True)
    world.put("PROC-C", days[1], lines("PROC-C", days[1], range(11)))
    world.put("PROC-C", days[2], lines("PROC-C", days[2], range(2)))  # crossed midnight: started the day before
    world.put("PROC-D", days[2], lines("PROC-D", days[2], range(4)))
    world.put("PROC-A", date(2024, 1, 18), lines("PROC-A", date(2024, 1, 18), range(9)))  # outside the range
    expected = {days[0]: 10, days[1]: 11, days[2]: 6}
    tags = {"dagster/asset_partition_range_start": "2024-01-15", "dagster/asset_partition_range_end": "2024-01-17"}
    result = world.materialize(tags=tags)
    assert result.success
    counts = query(
        world.warehouse_url,
        "SELECT sample_timestamp::date, count(*), count(DISTINCT telemetry_key) "
        "FROM analytics.fact_procedure_telemetry GROUP BY 1 ORDER BY 1",
    )
    assert counts == [(day, n, n) for day, n in expected.items()]
    assert query(world.warehouse_url, "SELECT count(*) FROM analytics.telemetry_quarantine") == [(0,)]
    metadata = by_partition(result, SAMPLES_KEY)
    assert {day: (m["files_read"], m["lines_read"], m["rows_loaded"]) for day, m in metadata.items()} == {
        "2024-01-15": (2, 10, 10),
        "2024-01-16": (1, 11, 11),
        "2024-01-17": (2, 6, 6),
    }
    assert {day: m["dagster/row_count"] for day, m in metadata.items()} == {
        d.isoformat(): n for d, n in expected.items()
    }
    # each day as its own run gives the same rows as the range did
    range_rows = world.fact()
    for day in days:
        assert world.materialize(day.isoformat()).success
    assert world.fact() == range_rows


def test_each_partition_of_a_range_run_reports_its_own_figures(world):
    """Not the range's totals copied to every day: rows loaded, lines rejected and files read of that day, 0 for
    a day without files, on the samples, the quarantine and the fact."""
    days = ["2024-01-15", "2024-01-16", "2024-01-17"]
    world.put("PROC-A", DAY, lines("PROC-A", DAY, range(7)))
    world.put("PROC-B", DAY, lines("PROC-B", DAY, range(3)) + [b"{broken", b"not json"], gz=True)
    # 2024-01-16: no file at all
    third = date(2024, 1, 17)
    world.put("PROC-D", third, lines("PROC-D", third, range(4)) + [b"[]"])
    tags = {"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]}
    result = world.materialize(tags=tags, run_config=budget(0.5))
    assert result.success
    samples = by_partition(result, SAMPLES_KEY)
    assert {d: (m["dagster/row_count"], m["rows_quarantined"], m["files_read"]) for d, m in samples.items()} == {
        "2024-01-15": (10, 2, 2),
        "2024-01-16": (0, 0, 0),
        "2024-01-17": (4, 1, 1),
    }
    fact = by_partition(result, FACT_KEY)
    assert {d: m["dagster/row_count"] for d, m in fact.items()} == {"2024-01-15": 10, "2024-01-16": 0, "2024-01-17": 4}
    quarantine = by_partition(result, QUARANTINE_KEY)
    assert {d: m["dagster/row_count"] for d, m in quarantine.items()} == {
        "2024-01-15": 2,
        "2024-01-16": 0,
        "2024-01-17": 1,
    }


def test_a_days_rows_do_not_depend_on_the_range_it_is_run_in(world):
    """Procedures are resolved for [day - 1, day + 1): a procedure that started two days earlier (PROC-A, on the
    15th) must be treated the same whether the 17th runs alone or inside a 15th..17th range."""
    day = date(2024, 1, 17)
    world.put("PROC-A", day, lines("PROC-A", day, range(3)))
    world.put("PROC-D", day, lines("PROC-D", day, range(4)))
    tags = {"dagster/asset_partition_range_start": "2024-01-15", "dagster/asset_partition_range_end": "2024-01-17"}
    assert world.materialize(tags=tags, run_config=budget(1.0)).success
    in_range = (world.fact(day), world.quarantine(day))
    assert world.materialize(day.isoformat(), run_config=budget(1.0)).success
    alone = (world.fact(day), world.quarantine(day))
    summary = [(len(f), [(q[1], q[2], q[3]) for q in qs]) for f, qs in (in_range, alone)]
    assert alone == in_range, f"(fact rows, quarantine) in the range run vs alone: {summary}"


def test_procedures_extracted_after_the_telemetry_resolve_on_a_rerun(source_url, warehouse_url, tmp_path):
    seed_source(source_url)
    world = World(source_url, warehouse_url, str(tmp_path / "lake"))
    world.put("PROC-A", DAY, lines("PROC-A", DAY, range(6)))
    world.put("PROC-OLD", DAY, lines("PROC-OLD", DAY, range(50, 54)))
    first = world.materialize(DAY.isoformat(), run_config=budget(1.0))
    assert first.success
    assert world.fact(DAY) == []
    quarantined = world.quarantine(DAY)
    assert len(quarantined) == 10
    assert all("unknown procedure" in row[3] for row in quarantined)

    extract_procedures(world)
    second = world.materialize(DAY.isoformat())
    assert second.success
    assert query(
        world.warehouse_url,
        "SELECT procedure_id, count(*) FROM analytics.fact_procedure_telemetry GROUP BY 1 ORDER BY 1",
    ) == [("PROC-A", 6), ("PROC-OLD", 4)]
    assert world.quarantine(DAY) == []
    assert materialization(second, SAMPLES_KEY)["lines_quarantined"] == 0


def _assert_exact_schema(data: bytes, where: str) -> None:
    schema = pq.read_schema(io.BytesIO(data))
    expected = arrow_schema(FACT_COLUMNS)
    assert schema.names == expected.names, where
    for field in expected:
        got = schema.field(field.name)
        assert got.type == field.type, f"{where} {field.name}: {got.type} != {field.type}"
        assert got.nullable == field.nullable, f"{where} {field.name}: nullable {got.nullable} != {field.nullable}"
        assert str(got.type) != "null", f"{where} {field.name}: null-typed"


def test_staged_parquet_has_exactly_the_fact_schema(any_world):
    world = any_world
    mixed_day(world)
    world.put("PROC-C", date(2024, 1, 16), lines("PROC-C", date(2024, 1, 16), range(2), arm_position=None, camera=None))
    tags = {"dagster/asset_partition_range_start": "2024-01-15", "dagster/asset_partition_range_end": "2024-01-17"}
    assert world.materialize(tags=tags, run_config=budget(0.5)).success
    expected = arrow_schema(FACT_COLUMNS)
    # spot-check the types the fact needs: decimals with their precision/scale, int32 keys
    assert str(expected.field("arm_position_x").type) == "decimal128(10, 4)"
    assert str(expected.field("camera_zoom").type) == "decimal128(5, 2)"
    assert str(expected.field("timestamp_key").type) == "int32"
    rows = {}
    for day in ("2024-01-15", "2024-01-16", "2024-01-17"):  # a day with rows, one with null columns, an empty one
        key = f"staging/lake/telemetry_samples/dt={day}/part-0.parquet"
        data = world.lake.get(key)
        _assert_exact_schema(data, key)
        rows[day] = pq.read_table(io.BytesIO(data)).num_rows
    assert rows == {"2024-01-15": 41, "2024-01-16": 2, "2024-01-17": 0}
    columns = dict(
        query(
            world.warehouse_url,
            "SELECT column_name, "
            "CASE WHEN data_type = 'numeric' THEN 'numeric(' || numeric_precision || ',' || numeric_scale || ')' "
            "ELSE data_type END FROM information_schema.columns "
            "WHERE table_schema = 'analytics' AND table_name = 'fact_procedure_telemetry'",
        )
    )
    assert columns["arm_position_x"] == "numeric(10,4)" and columns["camera_zoom"] == "numeric(5,2)"
    assert columns["motor_current"] == "numeric(8,4)" and columns["timestamp_key"] == "integer"
    assert columns["telemetry_key"] == "bigint" and columns["tool_type"] == "character varying"
