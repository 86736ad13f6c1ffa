-- 3. Monthly procedure volume trends on the facilities' local calendar.
with procedures as (
    select * from {{ ref('int_procedure_members') }}
)

select
    start_year as year,
    start_month as month,
    start_month_name as month_name,
    count(*) as procedures,
    sum(case when status = 'completed' then 1 else 0 end) as completed,
    round(cast(sum(duration_minutes) / 60.0 as numeric(14, 2)), 2) as operating_hours,
    round(cast({{ avg_float('duration_minutes') }} as numeric(10, 2)), 2) as avg_duration_minutes,
    round(cast({{ pct_where("success_status = 'Successful'") }} as numeric(6, 2)), 2) as success_rate_pct
from procedures
group by start_year, start_month, start_month_name
order by start_year, start_month
