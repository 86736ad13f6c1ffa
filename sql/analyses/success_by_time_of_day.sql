-- 13. Success rate by LOCAL hour of the start (completed procedures), with its time-of-day band; the rate for hours
-- with at least min_rate_sample procedures (a night hour holds a handful of emergencies).
with procedures as (
    select * from {{ ref('int_procedure_members') }}
    where status = 'completed'
)

select
    start_hour as hour,
    start_time_of_day as time_of_day,
    start_business_hours as business_hours,
    count(*) as procedures,
    {{ rate_pct("success_status = 'Successful'") }} as success_rate_pct,
    round(cast({{ avg_float('complexity_score') }} as numeric(6, 2)), 2) as avg_complexity
from procedures
group by start_hour, start_time_of_day, start_business_hours
order by start_hour
