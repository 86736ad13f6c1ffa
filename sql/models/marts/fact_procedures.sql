{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partition_window('start_time') }}",
        dist='robot_key',
        sort=['start_time', 'robot_key'],
    )
}}
-- The dimensions share their keys with int_*_versions (the same snapshot rows); named here so they build first:
-- depends_on: {{ ref('dim_robots') }} {{ ref('dim_surgeons') }} {{ ref('dim_facilities') }}
-- depends_on: {{ ref('dim_date') }} {{ ref('dim_time') }}

with

procedures_point_in_time as (
    select * from {{ ref('int_procedures_point_in_time') }}
),

resolved as (
    select
        *,
        {{ utc_to_local('start_time', 'time_zone') }} as local_start_time,
        {{ utc_to_local('end_time', 'time_zone') }} as local_end_time
    from procedures_point_in_time
    where quarantine_reason is null
),

final as (
    select
        {{ stable_bigint_key('procedure_id') }} as procedure_key,
        cast(procedure_id as {{ varchar_chars(100) }}) as procedure_id,
        cast(robot_key as integer) as robot_key,
        cast(surgeon_key as integer) as surgeon_key,
        cast(facility_key as integer) as facility_key,
        {{ date_key('local_start_time') }} as start_date_key,
        {{ time_key('local_start_time') }} as start_time_key,
        {{ date_key('local_end_time') }} as end_date_key,
        {{ time_key('local_end_time') }} as end_time_key,
        cast(start_time as timestamp) as start_time,
        cast(procedure_type as {{ varchar_chars(100) }}) as procedure_type,
        cast(procedure_category as {{ varchar_chars(50) }}) as procedure_category,
        cast(patient_id as {{ varchar_chars(100) }}) as patient_id,
        cast(patient_age as smallint) as patient_age,
        cast(patient_gender as {{ varchar_chars(10) }}) as patient_gender,
        cast(duration_minutes as integer) as duration_minutes,
        cast(complexity_score as decimal(3, 1)) as complexity_score,
        cast(success_status as {{ varchar_chars(50) }}) as success_status,
        cast(blood_loss_ml as integer) as blood_loss_ml,
        cast(complication_level as {{ varchar_chars(50) }}) as complication_level,
        cast(hospital_stay_days as integer) as hospital_stay_days,
        cast(patient_satisfaction_score as decimal(3, 1)) as patient_satisfaction_score,
        readmission_30day,
        cast(coalesce(status, 'completed') as {{ varchar_chars(50) }}) as status,
        cast(created_at as timestamp) as created_at,
        cast(greatest(updated_at, outcome_updated_at) as timestamp) as updated_at
    from resolved
)

select * from final
