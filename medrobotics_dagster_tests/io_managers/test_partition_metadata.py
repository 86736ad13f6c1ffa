"""Each partition's own metadata, added for a whole range at once: merged per partition, refused outside the run."""

import dagster as dg

from medrobotics_dagster.io_managers import add_partition_metadata
from medrobotics_dagster.partitions import daily_partitions

RANGE_TAGS = {"dagster/asset_partition_range_start": "2024-01-01", "dagster/asset_partition_range_end": "2024-01-03"}


@dg.asset(partitions_def=daily_partitions, backfill_policy=dg.BackfillPolicy.single_run())
def counted(context: dg.AssetExecutionContext) -> None:
    add_partition_metadata(context, {key: {"rows": i} for i, key in enumerate(context.partition_keys)})
    add_partition_metadata(context, {context.partition_keys[-1]: {"described": True}})  # merged, not replaced
    context.add_output_metadata({"partitions_in_run": len(context.partition_keys)})


@dg.asset(partitions_def=daily_partitions, backfill_policy=dg.BackfillPolicy.single_run())
def outside(context: dg.AssetExecutionContext) -> None:
    add_partition_metadata(context, {context.partition_keys[0]: {"rows": 1}, "2024-01-04": {"rows": 2}})


def _metadata_by_partition(result: dg.ExecuteInProcessResult) -> dict:
    return {
        e.partition: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }


def test_each_partition_of_a_range_carries_its_own_figures_and_the_outputs():
    result = dg.materialize([counted], tags=RANGE_TAGS)
    assert _metadata_by_partition(result) == {
        "2024-01-01": {"rows": 0, "partitions_in_run": 3},
        "2024-01-02": {"rows": 1, "partitions_in_run": 3},
        "2024-01-03": {"rows": 2, "partitions_in_run": 3, "described": True},
    }


def test_one_partition_run():
    result = dg.materialize([counted], partition_key="2024-01-02")
    assert _metadata_by_partition(result) == {"2024-01-02": {"rows": 0, "partitions_in_run": 1, "described": True}}


def test_a_partition_outside_the_run_is_refused():
    result = dg.materialize([outside], tags=RANGE_TAGS, raise_on_error=False)
    assert not result.success
    error = result.failure_data_for_node("outside").error
    assert error.cls_name == "DagsterInvariantViolationError"
    assert "partition key '2024-01-04' that is not being targeted" in error.message
