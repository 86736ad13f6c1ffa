-- 9. Facility performance comparison (completed procedures performed at each facility); the success rate for
-- facilities with at least min_rate_sample procedures.
select
    facility_id,
    facility_name,
    city,
    state,
    facility_type,
    total_procedures,
    robot_count,
    surgeon_count,
    {{ rate_if_enough('success_rate', 'total_procedures') }} as success_rate_pct,
    round(cast(avg_patient_satisfaction as numeric(6, 2)), 2) as avg_satisfaction,
    round(cast(avg_hospital_stay as numeric(6, 2)), 2) as avg_hospital_stay_days
from {{ ref('vw_facility_performance') }}
order by success_rate_pct desc nulls last, avg_patient_satisfaction desc, facility_id asc
