"""The lake Parquet IO manager: one object per daily partition, ranges split by partition_expr, loads by partition."""

import uuid

import boto3
import dagster as dg
import pandas as pd
import pytest

from medrobotics_dagster.io_managers import LakeParquetIOManager
from medrobotics_dagster.io_managers.frames import from_parquet as arrow_from_parquet
from medrobotics_dagster.partitions import daily_partitions
from medrobotics_dagster.resources.lake import Lake

RANGE_TAGS = {"dagster/asset_partition_range_start": "2024-01-01", "dagster/asset_partition_range_end": "2024-01-03"}


def from_parquet(data: bytes) -> pd.DataFrame:
    return arrow_from_parquet(data).to_pandas()


ROWS = pd.DataFrame(
    {
        "sample_timestamp": pd.to_datetime(
            ["2024-01-01T00:00:00Z", "2024-01-01T23:59:59.999Z", "2024-01-03T12:00:00Z"], utc=True, format="ISO8601"
        ),
        "force_feedback": [1.0, 2.0, 3.0],
    }
)
# What the lake stores: the warehouse convention, naive UTC timestamps.
STORED = ROWS.assign(sample_timestamp=ROWS.sample_timestamp.dt.tz_localize(None))


def _rows_for(window: dg.TimeWindow) -> pd.DataFrame:
    inside = (ROWS.sample_timestamp >= window.start) & (ROWS.sample_timestamp < window.end)
    return ROWS[inside].reset_index(drop=True)


@dg.asset(
    key_prefix=["telemetry"],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    metadata={"partition_expr": "sample_timestamp"},
)
def samples(context: dg.AssetExecutionContext) -> pd.DataFrame:
    return _rows_for(context.partition_time_window)


@dg.asset(partitions_def=daily_partitions, backfill_policy=dg.BackfillPolicy.single_run())
def sample_totals(context: dg.AssetExecutionContext, samples: pd.DataFrame) -> pd.DataFrame:
    context.add_output_metadata({"loaded_rows": len(samples)})
    return pd.DataFrame({"partitions": [len(context.partition_keys)], "total": [samples.force_feedback.sum()]})


@dg.asset
def summary() -> pd.DataFrame:
    return pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})


@dg.asset
def summary_copy(summary: pd.DataFrame) -> pd.DataFrame:
    return summary


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(url=str(tmp_path / "lake"))


def _resources(lake: Lake) -> dict:
    return {"io_manager": LakeParquetIOManager(lake=lake)}


def _objects(lake: Lake) -> list[str]:
    return [o.key for o in lake.list("staging/")]


def _output_metadata(result: dg.ExecuteInProcessResult, asset_name: str) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == asset_name)
    return event.materialization.metadata


def test_single_partition_round_trip(lake):
    result = dg.materialize([samples], resources=_resources(lake), partition_key="2024-01-01")
    key = "staging/telemetry/samples/dt=2024-01-01/part-0.parquet"
    assert _objects(lake) == [key]
    stored = from_parquet(lake.get(key))
    pd.testing.assert_frame_equal(stored, STORED.iloc[:2].reset_index(drop=True), check_dtype=False)
    metadata = _output_metadata(result, "samples")
    assert metadata["dagster/row_count"].value == 2
    assert metadata["partitions_in_run"].value == 1
    assert metadata["lake_uri"].value == lake.uri(key)


def test_single_run_range_writes_every_partition_including_empty_ones(lake):
    result = dg.materialize([samples], resources=_resources(lake), tags=RANGE_TAGS)
    assert sorted(e.partition for e in result.get_asset_materialization_events()) == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]
    assert _objects(lake) == [f"staging/telemetry/samples/dt=2024-01-0{d}/part-0.parquet" for d in (1, 2, 3)]
    sizes = [len(from_parquet(lake.get(k))) for k in _objects(lake)]
    assert sizes == [2, 0, 1]
    empty = from_parquet(lake.get("staging/telemetry/samples/dt=2024-01-02/part-0.parquet"))
    assert list(empty.columns) == ["sample_timestamp", "force_feedback"]  # empty, but with the schema
    own = {
        e.partition: e.materialization.metadata["dagster/row_count"].value
        for e in result.get_asset_materialization_events()
    }
    assert own == {"2024-01-01": 2, "2024-01-02": 0, "2024-01-03": 1}  # each partition its own, not the range's 3
    objects = {
        e.partition: e.materialization.metadata["lake_uri"].value for e in result.get_asset_materialization_events()
    }
    assert objects == {p: lake.uri(f"staging/telemetry/samples/dt={p}/part-0.parquet") for p in own}  # not the range's
    metadata = _output_metadata(result, "samples")
    assert metadata["partitions_in_run"].value == 3
    assert "rows_per_partition" not in metadata  # copied to every partition's event, it grew with the range squared


def test_downstream_loads_a_single_partition_and_a_range(lake):
    dg.materialize([samples], resources=_resources(lake), tags=RANGE_TAGS)

    one = dg.materialize(
        [samples, sample_totals], selection=[sample_totals], resources=_resources(lake), partition_key="2024-01-03"
    )
    assert from_parquet(lake.get("staging/sample_totals/dt=2024-01-03/part-0.parquet")).total.tolist() == [3.0]
    assert _output_metadata(one, "sample_totals")["loaded_rows"].value == 1

    loaded = {}

    @dg.asset(partitions_def=daily_partitions, backfill_policy=dg.BackfillPolicy.single_run())
    def range_reader(context: dg.AssetExecutionContext, samples: pd.DataFrame) -> None:
        loaded["keys"], loaded["frame"] = context.partition_keys, samples

    dg.materialize([samples, range_reader], selection=[range_reader], resources=_resources(lake), tags=RANGE_TAGS)
    assert loaded["keys"] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    pd.testing.assert_frame_equal(loaded["frame"], STORED, check_dtype=False)  # concatenated in partition order


def test_range_run_without_partition_expr_is_refused(lake):
    dg.materialize([samples], resources=_resources(lake), tags=RANGE_TAGS)
    result = dg.materialize(
        [samples, sample_totals],
        selection=[sample_totals],
        resources=_resources(lake),
        tags=RANGE_TAGS,
        raise_on_error=False,
    )
    assert not result.success
    assert "partition_expr" in str(result.get_step_failure_events()[0].event_specific_data.error)


def test_missing_partition_names_the_key(lake):
    dg.materialize([samples], resources=_resources(lake), partition_key="2024-01-01")
    result = dg.materialize(
        [samples, sample_totals],
        selection=[sample_totals],
        resources=_resources(lake),
        partition_key="2024-01-02",
        raise_on_error=False,
    )
    assert not result.success
    message = str(result.get_step_failure_events()[0].event_specific_data.error)
    assert "telemetry/samples partition 2024-01-02" in message
    assert "staging/telemetry/samples/dt=2024-01-02/part-0.parquet" in message


def test_rematerializing_a_partition_is_idempotent(lake):
    for _ in range(2):
        dg.materialize([samples], resources=_resources(lake), partition_key="2024-01-01")
    dg.materialize([samples], resources=_resources(lake), tags=RANGE_TAGS)
    dg.materialize([samples], resources=_resources(lake), partition_key="2024-01-01")
    assert len(_objects(lake)) == 3
    stored = from_parquet(lake.get("staging/telemetry/samples/dt=2024-01-01/part-0.parquet"))
    pd.testing.assert_frame_equal(stored, STORED.iloc[:2].reset_index(drop=True), check_dtype=False)


def test_rows_outside_the_partition_are_refused(lake):
    @dg.asset(partitions_def=daily_partitions, metadata={"partition_expr": "sample_timestamp"})
    def stray() -> pd.DataFrame:
        return ROWS

    result = dg.materialize([stray], resources=_resources(lake), partition_key="2024-01-01", raise_on_error=False)
    assert not result.success
    assert "1 row(s) have sample_timestamp outside" in str(
        result.get_step_failure_events()[0].event_specific_data.error
    )
    assert _objects(lake) == []


def test_unpartitioned_round_trip(lake):
    result = dg.materialize([summary, summary_copy], resources=_resources(lake))
    assert _objects(lake) == ["staging/summary.parquet", "staging/summary_copy.parquet"]
    pd.testing.assert_frame_equal(from_parquet(lake.get("staging/summary_copy.parquet")), summary())
    assert "partitions_in_run" not in _output_metadata(result, "summary")
    assert _output_metadata(result, "summary")["lake_uri"].value == lake.uri("staging/summary.parquet")


def test_on_s3(s3_endpoint):
    bucket = f"mr-io-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)  # no deny policy: moto would deny every put (it ignores conditions)
    lake = Lake(url=f"s3://{bucket}/lake")
    dg.materialize([samples], resources=_resources(lake), tags=RANGE_TAGS)
    result = dg.materialize(
        [samples, sample_totals], selection=[sample_totals], resources=_resources(lake), partition_key="2024-01-01"
    )
    assert _output_metadata(result, "sample_totals")["loaded_rows"].value == 2
    assert (
        _output_metadata(result, "sample_totals")["lake_uri"].value
        == f"s3://{bucket}/lake/staging/sample_totals/dt=2024-01-01/part-0.parquet"
    )
    head = boto3.client("s3").head_object(
        Bucket=bucket, Key="lake/staging/telemetry/samples/dt=2024-01-02/part-0.parquet"
    )
    assert head["ServerSideEncryption"] == "AES256"
    assert len(list(lake.list("staging/telemetry/samples/"))) == 3
