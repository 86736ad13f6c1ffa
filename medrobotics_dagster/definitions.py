"""The code location: every asset, check and resource of the platform."""

from medrobotics_dagster.long_lived_imports import long_lived_objects

with long_lived_objects():
    import dagster as dg

    from medrobotics_dagster.defs.operations.alerts import alert_channel_for_environment, run_failure_alert_sensor
    from medrobotics_dagster.defs.operations.freshness import with_freshness_policies
    from medrobotics_dagster.defs.operations.jobs import operations_jobs
    from medrobotics_dagster.defs.operations.schedule import daily_warehouse_schedule
    from medrobotics_dagster.defs.operations.sensor_watchdog import sensor_watchdog
    from medrobotics_dagster.defs.sources.operational_tables import operational_table_specs
    from medrobotics_dagster.defs.sources.raw_telemetry import raw_telemetry_spec
    from medrobotics_dagster.defs.staging.operational_extracts import extract_assets, unique_key_checks
    from medrobotics_dagster.defs.telemetry.assets import telemetry_assets
    from medrobotics_dagster.defs.telemetry.checks import telemetry_checks
    from medrobotics_dagster.defs.telemetry.queue_sensor import raw_telemetry_queue_sensor
    from medrobotics_dagster.defs.telemetry.sensor import raw_telemetry_sensor, telemetry_job
    from medrobotics_dagster.defs.warehouse.dbt_assets import daily_fact_models, warehouse_dbt_models, warehouse_views
    from medrobotics_dagster.environments import resources_for_environment

    defs = with_freshness_policies(
        dg.Definitions(
            assets=[
                *operational_table_specs,
                raw_telemetry_spec,
                *extract_assets,
                *telemetry_assets,
                warehouse_dbt_models,
                daily_fact_models,
                warehouse_views,
            ],
            asset_checks=[*unique_key_checks, *telemetry_checks],
            jobs=[telemetry_job, *operations_jobs],
            schedules=[daily_warehouse_schedule],
            sensors=[raw_telemetry_sensor, raw_telemetry_queue_sensor, run_failure_alert_sensor, sensor_watchdog],
            resources={**resources_for_environment(), "alerts": alert_channel_for_environment()},
            # Steps run in the run's own process: a process per step would import these definitions again for each step
            # (seconds apiece), while the steps of a run mostly wait on each other and on the databases.
            executor=dg.in_process_executor,
        )
    )
