{{ config(materialized='ephemeral') }}
-- One row per robot (robot_id): its current attributes (latest version) and its current facility (the facility
-- its latest version points at, described by that facility's latest version). Shared by the utilization views.
with robots as (
    select * from {{ latest_versions(ref('dim_robots'), 'robot_id') }} as latest_robots
),

facilities as (
    select * from {{ latest_versions(ref('dim_facilities'), 'facility_id') }} as latest_facilities
),

robot_facility as (
    select robots.robot_id, facility_versions.facility_id
    from robots
    left join {{ ref('dim_facilities') }} as facility_versions on facility_versions.facility_key = robots.facility_key
)

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
