-- 11. Robot system health by robot model, from the telemetry of each procedure.
select
    robot_model,
    count(*) as procedures_with_telemetry,
    sum(telemetry_sample_count) as samples,
    round(cast({{ avg_float('avg_temperature') }} as numeric(6, 2)), 2) as avg_temperature,
    max(max_temperature) as max_temperature,
    round(cast({{ avg_float('avg_motor_current') }} as numeric(8, 4)), 4) as avg_motor_current,
    round(cast({{ avg_float('avg_network_latency') }} as numeric(8, 2)), 2) as avg_network_latency_ms,
    max(max_network_latency) as max_network_latency_ms,
    round(cast(
        sum(avg_video_fps * telemetry_sample_count) / nullif(sum(telemetry_sample_count), 0) as numeric(6, 2)
    ), 2) as avg_video_fps,
    min(min_video_fps) as min_video_fps
from {{ ref('vw_telemetry_system_health') }}
group by robot_model
order by robot_model
