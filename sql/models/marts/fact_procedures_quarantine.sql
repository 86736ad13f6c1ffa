{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partition_window('start_time') }}",
        dist='even',
        sort=['start_time'],
    )
}}

with

procedures_point_in_time as (
    select * from {{ ref('int_procedures_point_in_time') }}
),

unresolved as (
    select * from procedures_point_in_time
    where quarantine_reason is not null
),

final as (
    select
        cast(procedure_id as {{ varchar_chars(100) }}) as procedure_id,
        cast(robot_id as {{ varchar_chars(50) }}) as robot_id,
        cast(surgeon_id as {{ varchar_chars(50) }}) as surgeon_id,
        cast(facility_id as {{ varchar_chars(50) }}) as facility_id,
        cast(start_time as timestamp) as start_time,
        cast(duration_minutes as integer) as duration_minutes,
        cast(blood_loss_ml as integer) as blood_loss_ml,
        cast(quarantine_reason as {{ varchar_chars(500) }}) as reason,
        {{ snapshot_get_time() }} as loaded_at
    from unresolved
)

select * from final
