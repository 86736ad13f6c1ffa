{{ config(materialized='ephemeral') }}
-- Every procedure fact with the natural ids of the robot, surgeon and facility it belongs to, reached through
-- the dimension VERSION the fact points at (its keys are the versions valid at its start_time), plus the
-- calendar attributes of its LOCAL start day and minute (the keys are on the facility's clock).
-- Left joins: a fact is never dropped here (its keys are tested not_null + relationships, blocking).
-- Ephemeral: inlined into the views, so no object of its own depends on the daily fact.

select
    procedures.*,
    robots.robot_id,
    robots.robot_model as robot_model_at_procedure,
    robots.manufacturer as manufacturer_at_procedure,
    surgeons.surgeon_id,
    facilities.facility_id,
    calendar.date as start_date,
    calendar.year as start_year,
    calendar.month as start_month,
    calendar.month_name as start_month_name,
    calendar.day_of_week as start_day_of_week,
    calendar.day_name as start_day_name,
    calendar.is_weekend as start_is_weekend,
    calendar.is_holiday as start_is_holiday,
    clock.hour as start_hour,
    clock.time_of_day as start_time_of_day,
    clock.business_hours as start_business_hours
from {{ ref('fact_procedures') }} as procedures
left join {{ ref('dim_robots') }} as robots on robots.robot_key = procedures.robot_key
left join {{ ref('dim_surgeons') }} as surgeons on surgeons.surgeon_key = procedures.surgeon_key
left join {{ ref('dim_facilities') }} as facilities on facilities.facility_key = procedures.facility_key
left join {{ ref('dim_date') }} as calendar on calendar.date_key = procedures.start_date_key
left join {{ ref('dim_time') }} as clock on clock.time_key = procedures.start_time_key
