{{ config(materialized='ephemeral') }}

with

robot_versions as (
    select * from {{ ref('dim_robots') }}
),

facility_versions as (
    select * from {{ ref('dim_facilities') }}
),

robots as (
    select * from {{ latest_versions('robot_versions', 'robot_id') }} as latest_robots
),

facilities as (
    select * from {{ latest_versions('facility_versions', 'facility_id') }} as latest_facilities
),

robot_facility as (
    select
        robots.robot_id,
        facility_versions.facility_id
    from robots
    left join facility_versions on facility_versions.facility_key = robots.facility_key
),

final as (
    select
        robots.robot_id,
        robots.robot_serial_number,
        robots.robot_model,
        facilities.facility_name,
        facilities.city,
        facilities.state
    from robots
    left join robot_facility on robot_facility.robot_id = robots.robot_id
    left join facilities on facilities.facility_id = robot_facility.facility_id
)

select * from final
