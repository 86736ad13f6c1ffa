{{ config(materialized='ephemeral') }}

with

procedures as (
    select *
    from {{ source('staging', 'surgical_procedures') }}
    where {{ in_partition_window('start_time') }}
),

outcomes as (
    select * from {{ source('staging', 'procedure_outcomes') }}
),

robot_versions as (
    select * from {{ ref('int_robot_versions') }}
),

surgeon_versions as (
    select * from {{ ref('int_surgeon_versions') }}
),

facility_versions as (
    select * from {{ ref('int_facility_versions') }}
),

known_robots as (
    select distinct robot_id from robot_versions
),

known_surgeons as (
    select distinct surgeon_id from surgeon_versions
),

known_facilities as (
    select distinct facility_id from facility_versions
),

resolved as (
    select
        procedures.*,
        robot_versions.robot_key,
        surgeon_versions.surgeon_key,
        facility_versions.facility_key,
        facility_versions.time_zone,
        case
            when robot_versions.robot_key is not null then null
            when known_robots.robot_id is null then 'unknown robot ' || procedures.robot_id
            else 'no version of robot ' || procedures.robot_id || ' valid at start_time'
        end as robot_problem,
        case
            when surgeon_versions.surgeon_key is not null then null
            when known_surgeons.surgeon_id is null then 'unknown surgeon ' || procedures.surgeon_id
            else 'no version of surgeon ' || procedures.surgeon_id || ' valid at start_time'
        end as surgeon_problem,
        case
            when facility_versions.facility_key is not null then null
            when known_facilities.facility_id is null then 'unknown facility ' || procedures.facility_id
            else 'no version of facility ' || procedures.facility_id || ' valid at start_time'
        end as facility_problem
    from procedures
    left join robot_versions
        on robot_versions.robot_id = procedures.robot_id
        and robot_versions.valid_from_ts <= procedures.start_time
        and robot_versions.valid_to_ts > procedures.start_time
    left join surgeon_versions
        on surgeon_versions.surgeon_id = procedures.surgeon_id
        and surgeon_versions.valid_from_ts <= procedures.start_time
        and surgeon_versions.valid_to_ts > procedures.start_time
    left join facility_versions
        on facility_versions.facility_id = procedures.facility_id
        and facility_versions.valid_from_ts <= procedures.start_time
        and facility_versions.valid_to_ts > procedures.start_time
    left join known_robots on known_robots.robot_id = procedures.robot_id
    left join known_surgeons on known_surgeons.surgeon_id = procedures.surgeon_id
    left join known_facilities on known_facilities.facility_id = procedures.facility_id
),

final as (
    select
        resolved.procedure_id,
        resolved.robot_id,
        resolved.surgeon_id,
        resolved.facility_id,
        resolved.robot_key,
        resolved.surgeon_key,
        resolved.facility_key,
        resolved.time_zone,
        resolved.start_time,
        resolved.end_time,
        resolved.procedure_type,
        resolved.procedure_category,
        resolved.patient_id,
        resolved.patient_age,
        resolved.patient_gender,
        resolved.duration_minutes,
        resolved.complexity_score,
        resolved.status,
        resolved.created_at,
        resolved.updated_at,
        outcomes.success_status,
        outcomes.blood_loss_ml,
        outcomes.complication_level,
        outcomes.hospital_stay_days,
        outcomes.patient_satisfaction_score,
        outcomes.readmission_30day,
        outcomes.updated_at as outcome_updated_at,
        nullif(
            btrim(
                coalesce(resolved.robot_problem || '; ', '')
                || coalesce(resolved.surgeon_problem || '; ', '')
                || coalesce(resolved.facility_problem, ''),
                '; '
            ),
            ''
        ) as quarantine_reason
    from resolved
    left join outcomes on outcomes.procedure_id = resolved.procedure_id
)

select * from final
