-- 13. Success rate by LOCAL hour of the start (completed procedures), with its time-of-day band.
with procedures as (
    select * from {{ ref('int_procedure_members') }}
    where status = 'completed'
)

select
    start_hour as hour,
    start_time_of_day as time_of_day,
    start_business_hours as business_hours,
    count(*) as procedures,
    round(cast({{ pct_where("success_status = 'Successful'") }} as numeric(6, 2)), 2) as success_rate_pct,
    round(cast({{ avg_float('complexity_score') }} as numeric(6, 2)), 2) as avg_complexity
from procedures
group by start_hour, start_time_of_day, start_business_hours
order by start_hour
