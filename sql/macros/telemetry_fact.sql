{#- analytics.fact_procedure_telemetry is created and loaded by the Python asset warehouse/fact_procedure_telemetry
    (columns: medrobotics_dagster/defs/telemetry/schema.py, DDL: io_managers/warehouse_sql.create_table_sql).
    A PostgreSQL view cannot be created over a table that does not exist yet, so on PostgreSQL every dbt run
    first creates it EMPTY with exactly that DDL if it is missing (on-run-start): `dbt build` works on a
    warehouse where no telemetry was loaded yet. The loader finds the same columns and loads into it.
    medrobotics_dagster_tests/warehouse/test_views.py proves the two DDLs create the same table.
    Dagster turns this off (MEDROBOTICS_DBT_CREATE_TELEMETRY_FACT=false) once it lists loaded days of the table:
    a missing table is then a lost one, and its loader fails loudly instead of loading one day into an empty
    table this hook created in whatever dbt step ran first.
    Redshift: nothing (views are late-binding there; the Dagster views asset ensures the table through the loader). -#}
{% macro ensure_telemetry_fact() -%}
    {%- if target.type == 'postgres' and env_var('MEDROBOTICS_DBT_CREATE_TELEMETRY_FACT', 'true') == 'true' -%}
create schema if not exists analytics;
create table if not exists analytics.fact_procedure_telemetry (
    telemetry_key bigint not null,
    procedure_key bigint not null,
    timestamp_key integer not null,
    sample_timestamp timestamp not null,
    arm_position_x numeric(10,4),
    arm_position_y numeric(10,4),
    arm_position_z numeric(10,4),
    arm_rotation_x numeric(10,4),
    arm_rotation_y numeric(10,4),
    arm_rotation_z numeric(10,4),
    force_feedback numeric(10,4),
    tool_type {{ varchar_chars(100) }},
    tool_active boolean,
    camera_zoom numeric(5,2),
    lighting_level integer,
    system_temperature numeric(5,2),
    motor_current numeric(8,4),
    network_latency_ms integer,
    video_fps integer,
    procedure_id {{ varchar_chars(100) }} not null,
    robot_id {{ varchar_chars(50) }},
    extra_fields jsonb,
    created_at timestamp not null
)
    {%- else %}
select 1
    {%- endif -%}
{%- endmacro %}
