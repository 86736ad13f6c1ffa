{{ config(dist='all', sort=['robot_id', 'effective_date']) }}

with

robot_versions as (
    select * from {{ ref('int_robot_versions') }}
),

robots as (
    select * from {{ source('staging', 'surgical_robots') }}
),

maintenance_logs as (
    select * from {{ source('staging', 'robot_maintenance_logs') }}
),

current_counters as (
    select
        robot_id,
        last_maintenance_date,
        total_procedures_count,
        total_operating_hours
    from robots
),

last_logged_maintenance as (
    select
        robot_id,
        max(maintenance_date) as last_logged_maintenance_date
    from maintenance_logs
    group by robot_id
),

final as (
    select
        robot_versions.robot_key,
        cast(robot_versions.robot_id as {{ varchar_chars(50) }}) as robot_id,
        cast(robot_versions.robot_serial_number as {{ varchar_chars(100) }}) as robot_serial_number,
        cast(robot_versions.robot_model as {{ varchar_chars(100) }}) as robot_model,
        cast(robot_versions.manufacturer as {{ varchar_chars(100) }}) as manufacturer,
        robot_versions.facility_key,
        cast(robot_versions.install_date as date) as install_date,
        cast(robot_versions.software_version as {{ varchar_chars(50) }}) as software_version,
        cast(robot_versions.hardware_revision as {{ varchar_chars(50) }}) as hardware_revision,
        cast(robot_versions.status as {{ varchar_chars(50) }}) as status,
        cast(
            greatest(
                coalesce(current_counters.last_maintenance_date, robot_versions.last_maintenance_date),
                last_logged_maintenance.last_logged_maintenance_date
            ) as date
        ) as last_maintenance_date,
        cast(
            coalesce(current_counters.total_procedures_count, robot_versions.total_procedures_count, 0) as integer
        ) as total_procedures_count,
        cast(
            coalesce(current_counters.total_operating_hours, robot_versions.total_operating_hours, 0)
            as decimal(10, 2)
        ) as total_operating_hours,
        cast(robot_versions.valid_from_ts as date) as effective_date,
        cast(
            case when robot_versions.is_current then null else robot_versions.valid_to_ts end as date
        ) as expiration_date,
        robot_versions.is_current,
        cast(robot_versions.valid_from_ts as timestamp) as valid_from,
        cast(robot_versions.valid_to_ts as timestamp) as valid_to
    from robot_versions
    left join current_counters on current_counters.robot_id = robot_versions.robot_id
    left join last_logged_maintenance on last_logged_maintenance.robot_id = robot_versions.robot_id
)

select * from final
