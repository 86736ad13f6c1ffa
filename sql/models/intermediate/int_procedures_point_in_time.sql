{{ config(materialized='ephemeral') }}
-- Procedures of the partition window (vars min_date/max_date, UTC days of start_time; all history without them)
-- with their outcome, the dimension versions valid at the procedure's start_time and that facility version's
-- time_zone (NULL when the facility does not resolve). Unresolved dimensions give a reason;
-- fact_procedures takes the resolved rows, fact_procedures_quarantine the others, so together they equal the source.

with procedures as (
    select *
    from {{ source('staging', 'surgical_procedures') }}
    where {{ in_partition_window('start_time') }}
),

outcomes as (
    select * from {{ source('staging', 'procedure_outcomes') }}
),

robot_versions as (
    select robot_key, robot_id, valid_from_ts, valid_to_ts from {{ ref('int_robot_versions') }}
),

surgeon_versions as (
    select surgeon_key, surgeon_id, valid_from_ts, valid_to_ts from {{ ref('int_surgeon_versions') }}
),

facility_versions as (
    select facility_key, facility_id, time_zone, valid_from_ts, valid_to_ts from {{ ref('int_facility_versions') }}
),

known_robots as (select distinct robot_id from robot_versions),
known_surgeons as (select distinct surgeon_id from surgeon_versions),
known_facilities as (select distinct facility_id from facility_versions),

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
        and procedures.start_time >= robot_versions.valid_from_ts
        and procedures.start_time < robot_versions.valid_to_ts
    left join surgeon_versions
        on surgeon_versions.surgeon_id = procedures.surgeon_id
        and procedures.start_time >= surgeon_versions.valid_from_ts
        and procedures.start_time < surgeon_versions.valid_to_ts
    left join facility_versions
        on facility_versions.facility_id = procedures.facility_id
        and procedures.start_time >= facility_versions.valid_from_ts
        and procedures.start_time < facility_versions.valid_to_ts
    left join known_robots on known_robots.robot_id = procedures.robot_id
    left join known_surgeons on known_surgeons.surgeon_id = procedures.surgeon_id
    left join known_facilities on known_facilities.facility_id = procedures.facility_id
)

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
