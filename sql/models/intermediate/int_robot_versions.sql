with

robot_snapshots as (
    select * from {{ ref('snap_robots') }}
),

facility_versions as (
    select * from {{ ref('int_facility_versions') }}
),

{{ scd2_version_ctes('robot_snapshots', 'robot_id', 'robot_key') }},

final as (
    select
        robots.robot_key,
        robots.robot_id,
        robots.robot_serial_number,
        robots.robot_model,
        robots.manufacturer,
        robots.facility_id,
        facility_versions.facility_key,
        robots.install_date,
        robots.software_version,
        robots.hardware_revision,
        robots.status,
        robots.last_maintenance_date,
        robots.total_procedures_count,
        robots.total_operating_hours,
        robots.version_number,
        robots.valid_from_ts,
        robots.valid_to_ts,
        robots.ended_by_delete,
        case when robots.valid_to_ts = {{ far_future_timestamp() }} then true else false end as is_current
    from scd2_versions as robots
    -- the facility version valid when the robot version began
    left join facility_versions
        on facility_versions.facility_id = robots.facility_id
        and facility_versions.valid_from_ts <= robots.valid_from_ts
        and facility_versions.valid_to_ts > robots.valid_from_ts
)

select * from final
