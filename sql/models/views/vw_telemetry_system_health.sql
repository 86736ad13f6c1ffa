-- Telemetry system health: one row per procedure with telemetry, over all its samples; the procedure's robot
-- and facility are labelled with their current attributes (latest version of each, by natural id). date is the
-- procedure's LOCAL start day.
with samples as (
    select
        procedure_key,
        count(*) as telemetry_sample_count,
        {{ avg_float('system_temperature') }} as avg_temperature,
        max(system_temperature) as max_temperature,
        {{ avg_float('motor_current') }} as avg_motor_current,
        max(motor_current) as max_motor_current,
        {{ avg_float('network_latency_ms') }} as avg_network_latency,
        max(network_latency_ms) as max_network_latency,
        {{ avg_float('video_fps') }} as avg_video_fps,
        min(video_fps) as min_video_fps
    from {{ source('analytics', 'fact_procedure_telemetry') }}
    group by procedure_key
),

procedures as (
    select * from {{ ref('int_procedure_members') }}
),

robots as (
    select * from {{ latest_versions(ref('dim_robots'), 'robot_id') }} as latest_robots
),

facilities as (
    select * from {{ latest_versions(ref('dim_facilities'), 'facility_id') }} as latest_facilities
)

select
    procedures.procedure_id,
    robots.robot_model,
    facilities.facility_name,
    procedures.start_date as date,
    samples.telemetry_sample_count,
    samples.avg_temperature,
    samples.max_temperature,
    samples.avg_motor_current,
    samples.max_motor_current,
    samples.avg_network_latency,
    samples.max_network_latency,
    samples.avg_video_fps,
    samples.min_video_fps
from samples
inner join procedures on procedures.procedure_key = samples.procedure_key
left join robots on robots.robot_id = procedures.robot_id
left join facilities on facilities.facility_id = procedures.facility_id
