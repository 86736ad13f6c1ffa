with

telemetry as (
    select * from {{ source('analytics', 'fact_procedure_telemetry') }}
),

procedures as (
    select * from {{ ref('int_procedure_members') }}
),

robot_versions as (
    select * from {{ ref('dim_robots') }}
),

facility_versions as (
    select * from {{ ref('dim_facilities') }}
),

samples as (
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
    from telemetry
    group by procedure_key
),

robots as (
    select * from {{ latest_versions('robot_versions', 'robot_id') }} as latest_robots
),

facilities as (
    select * from {{ latest_versions('facility_versions', 'facility_id') }} as latest_facilities
),

final as (
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
)

select * from final
