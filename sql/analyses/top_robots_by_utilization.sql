-- 2. The ten most utilized robots (by procedures, then operating hours).
select
    robot_id,
    robot_model,
    facility_name,
    total_procedures,
    round(cast(total_operating_hours as numeric(14, 2)), 2) as total_operating_hours,
    days_in_operation,
    round(cast(procedures_per_day as numeric(10, 3)), 3) as procedures_per_day
from {{ ref('vw_robot_utilization') }}
order by total_procedures desc, total_operating_hours desc, robot_id asc
limit 10
