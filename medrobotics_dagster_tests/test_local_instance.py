"""The local Dagster instance: PostgreSQL storage from deploy/dagster.local.yaml, planned events of a range run
written in one batch, and a failed range run's partitions shown as failed (what the planned-event subset lever
would lose)."""

import dagster as dg
import pytest
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

from medrobotics_dagster.local_event_log_storage import LocalEventLogStorage
from medrobotics_dagster.local_instance import LocalPostgresStorage, local_instance
from medrobotics_dagster_tests.database import query

days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-06")


@dg.asset(partitions_def=days, backfill_policy=dg.BackfillPolicy.single_run())
def daily_numbers(context: dg.AssetExecutionContext) -> None:
    context.log.info(f"{len(context.partition_keys)} days")


class Outcome(dg.Config):
    fail: bool = False


@dg.asset(partitions_def=days, backfill_policy=dg.BackfillPolicy.single_run(), deps=[daily_numbers])
def daily_totals(context: dg.AssetExecutionContext, config: Outcome) -> None:
    if config.fail:
        raise dg.Failure("planned failure")


@dg.asset_check(asset=daily_totals)
def totals_are_sane() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def _range_run(instance: dg.DagsterInstance, first: str, last: str, fail: bool) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [daily_numbers, daily_totals, totals_are_sane],
        instance=instance,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        run_config={"ops": {"daily_totals": {"config": {"fail": fail}}}},
        raise_on_error=False,
    )


@pytest.fixture
def instance(dagster_storage, tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    with local_instance(tmp_path / "dagster") as opened:
        yield opened


def test_the_local_instance_stores_on_postgresql_with_batched_events(instance):
    import os

    storage = instance.get_ref().storage  # what deploy/dagster.local.yaml chose
    assert isinstance(storage, LocalPostgresStorage)
    assert isinstance(storage.event_log_storage, LocalEventLogStorage)
    assert os.environ["DAGSTER_EVENT_BATCH_SIZE"] == "1000"


def _planned(instance, run_id: str, key: dg.AssetKey) -> list:
    """The run's planned-materialization records of one asset."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED).records
    return [r for r in records if r.asset_key == key]


def test_a_range_run_plans_every_partition_and_a_failed_one_shows_its_partitions_failed(instance):
    run = _range_run(instance, "2024-01-01", "2024-01-03", fail=False)
    assert run.success
    planned = _planned(instance, run.run_id, dg.AssetKey("daily_totals"))
    assert sorted(r.partition_key for r in planned) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert instance.get_materialized_partitions(dg.AssetKey("daily_totals")) == {
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    }

    failed_run = _range_run(instance, "2024-01-04", "2024-01-05", fail=True)
    assert not failed_run.success
    status = get_and_update_asset_status_cache_value(instance, dg.AssetKey("daily_totals"), days)
    failed = status.deserialize_failed_partition_subsets(days).get_partition_keys()
    assert sorted(failed) == ["2024-01-04", "2024-01-05"]
    assert instance.get_materialized_partitions(dg.AssetKey("daily_numbers")) == {f"2024-01-0{d}" for d in range(1, 6)}
    latest = max(r.storage_id for r in _planned(instance, failed_run.run_id, dg.AssetKey("daily_totals")))
    assert instance.get_latest_planned_materialization_info(dg.AssetKey("daily_totals")).storage_id == latest


@pytest.fixture
def stock_url(instance, make_database, tmp_path) -> str:
    """The same range run on our instance and on dagster-postgres as shipped; the latter's database URL."""
    url = make_database("dagster_stock")
    (tmp_path / "stock").mkdir()
    (tmp_path / "stock" / "dagster.yaml").write_text(
        f"storage:\n  postgres:\n    postgres_url: {url.replace('postgresql://', 'postgresql+psycopg2://')}\n"
    )
    with dg.DagsterInstance.from_config(str(tmp_path / "stock")) as stock:
        for opened in (instance, stock):
            assert _range_run(opened, "2024-01-01", "2024-01-03", fail=False).success
    return url


def test_check_rows_of_a_range_run_are_those_dagster_postgres_writes(dagster_storage, stock_url):
    rows = (
        "SELECT partition, execution_status, asset_key, evaluation_event_timestamp IS NOT NULL, "
        "evaluation_event_storage_id IS NOT NULL, strpos(evaluation_event, 'AssetCheckEvaluation') > 0 "
        "FROM asset_check_executions WHERE check_name = 'totals_are_sane' ORDER BY 1"
    )
    ours = query(dagster_storage, rows)
    assert [r[0] for r in ours if r[1] == "PLANNED"] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert ours == query(stock_url, rows)


def test_asset_events_of_a_range_run_are_those_dagster_postgres_writes(instance, dagster_storage, stock_url):
    rows = (
        "SELECT dagster_event_type, asset_key, partition, count(*) FROM event_logs WHERE asset_key IS NOT NULL "
        "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    tags = "SELECT asset_key, key, count(*) FROM asset_event_tags GROUP BY 1, 2 ORDER BY 1, 2"  # values: run ids
    ours = query(dagster_storage, rows)
    assert {(r[0], r[2]) for r in ours} >= {("ASSET_MATERIALIZATION", f"2024-01-0{d}") for d in (1, 2, 3)}
    assert ours == query(stock_url, rows)
    assert query(dagster_storage, tags) == query(stock_url, tags)
    for key in (dg.AssetKey("daily_numbers"), dg.AssetKey("daily_totals")):  # each asset's row: its latest event
        assert instance.get_latest_materialization_event(key).dagster_event.partition == "2024-01-03"
        assert instance.get_asset_records([key])[0].asset_entry.last_materialization_record.storage_id == max(
            r.storage_id for r in instance.fetch_materializations(key, limit=10).records
        )


def test_a_run_writes_its_events_on_a_few_pooled_connections_that_survive_a_server_restart(instance, dagster_storage):
    import sqlalchemy as sa

    from medrobotics_dagster_tests.database import execute

    engine = instance.event_log_storage._engine
    opened = []
    sa.event.listen(engine, "connect", lambda *_: opened.append(1))
    assert _range_run(instance, "2024-01-01", "2024-01-05", fail=False).success
    events = instance.get_records_for_run(instance.get_runs(limit=1)[0].run_id, limit=1000).records
    assert len(events) > 30 and len(opened) <= 4, (len(events), len(opened))

    # the server drops every connection (a restart of the embedded PostgreSQL): the next run reconnects
    database = dagster_storage.rsplit("/", 1)[1]
    execute(
        dagster_storage.rsplit("/", 1)[0] + "/postgres",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{database}' AND pid <> pg_backend_pid()",
    )
    assert _range_run(instance, "2024-01-02", "2024-01-03", fail=False).success
