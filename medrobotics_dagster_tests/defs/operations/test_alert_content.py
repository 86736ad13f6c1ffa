"""What an on-call engineer reads in an alert, from real failed runs: a day over the telemetry error budget
and a permanent source fault. Run, job, partition range, failing step, failing check with its day and figure,
the first line of the cause, and the UI link, without opening the UI."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from medrobotics_dagster.defs.operations.alerts import AlertChannel, run_failure_alert_sensor
from medrobotics_dagster.defs.operations.jobs import OPERATIONS_TAGS
from medrobotics_dagster.defs.staging.operational_extracts import extract_assets, staging_key
from medrobotics_dagster.defs.telemetry.assets import telemetry_assets
from medrobotics_dagster_tests.defs.telemetry.telemetry_world import resources
from medrobotics_dagster_tests.defs.telemetry.test_telemetry_assets import lines

RANGE = {"dagster/asset_partition_range_start": "2024-01-14", "dagster/asset_partition_range_end": "2024-01-15"}


def alert(job: dg.JobDefinition, instance, channel: AlertChannel, **run) -> dict:
    result = job.execute_in_process(instance=instance, raise_on_error=False, **run)
    assert not result.success
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert_sensor",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
        resources={"alerts": channel},
    ).for_run_failure()
    run_failure_alert_sensor(context)
    return {"run_id": result.run_id}


@pytest.fixture
def instance(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        yield instance


def test_a_day_over_the_error_budget_names_the_check_the_day_and_its_share(world, instance, webhook, monkeypatch):
    url, posted = webhook
    monkeypatch.setenv("MEDROBOTICS_DAGSTER_UI_URL", "https://dagster.example.org/")
    day = date(2024, 1, 15)
    world.put("PROC-A", day, lines("PROC-A", day, range(1)) + [b"{broken", b"not json", b"[]"])
    job = dg.Definitions(
        assets=telemetry_assets,
        jobs=[
            dg.define_asset_job(
                "telemetry_job", selection=dg.AssetSelection.assets(*telemetry_assets), tags=OPERATIONS_TAGS
            )
        ],
        resources=resources(world.warehouse_url, world.lake_url),
    ).resolve_job_def("telemetry_job")
    run = alert(job, instance, AlertChannel(webhook_url=url), tags=RANGE)
    [body] = posted
    assert (
        body["subject"]
        == "[medrobotics] telemetry_job failed (2024-01-14...2024-01-15): check rejected_lines_within_budget"
    )
    message = body["message"].splitlines()
    assert message[0] == f"Run {run['run_id']} of telemetry_job failed."
    assert "Partition: 2024-01-14...2024-01-15" in message
    assert (
        "Check lake/telemetry_samples rejected_lines_within_budget failed: over the 5.0% error budget: "
        "2024-01-15 3 of 4 lines rejected (75.0%); the fact keeps its previous rows"
    ) in message
    assert any(line.startswith("Step telemetry_samples: ") for line in message)
    assert message[-1] == f"UI: https://dagster.example.org/runs/{run['run_id']}"
    [check] = body["failed_checks"]
    assert check["metadata"]["days_over_budget"] == {"2024-01-15": 0.75}


def test_a_permanent_source_fault_sends_its_one_line_not_the_python_exception(
    warehouse_url, instance, webhook, tmp_path
):
    url, posted = webhook
    [procedures] = [a for a in extract_assets if a.key == staging_key("surgical_procedures")]
    res = resources(warehouse_url, str(tmp_path / "lake"), source_url=warehouse_url)  # the source: an empty database
    job = dg.Definitions(
        assets=[procedures],
        jobs=[dg.define_asset_job("procedures_job", selection=[procedures], tags=OPERATIONS_TAGS)],
        resources=res,
    ).resolve_job_def("procedures_job")
    run = alert(job, instance, AlertChannel(webhook_url=url), partition_key="2024-01-15")
    [body] = posted
    assert body["subject"] == "[medrobotics] procedures_job failed (2024-01-15): step staging__surgical_procedures"
    [step] = body["failed_steps"]
    assert step["error"].startswith("extract of source table surgical_procedures failed permanently (SQLSTATE 42P01")
    assert 'relation "surgical_procedures" does not exist' in step["error"] and "Not retried" in step["error"]
    assert f"Step staging__surgical_procedures: {step['error']}" in body["message"].splitlines()
    assert body["ui_url"] == f"http://127.0.0.1:3000/runs/{run['run_id']}"
