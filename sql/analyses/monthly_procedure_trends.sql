-- 3. Monthly procedure volume trends on the facilities' local calendar. full_month is false for a first or last
-- month the history covers only in part: its volume is not a month's.
with procedures as (
    select * from {{ ref('int_procedure_members') }}
),

history as (
    select
        min(start_date_key) as first_key,
        max(start_date_key) as last_key,
        max(start_date) as last_day
    from procedures
),

per_month as (
    select
        start_year as year,
        start_month as month,
        start_month_name as month_name,
        count(*) as procedures,
        sum(case when status = 'completed' then 1 else 0 end) as completed,
        round(cast(sum(duration_minutes) / 60.0 as numeric(14, 2)), 2) as operating_hours,
        round(cast({{ avg_float('duration_minutes') }} as numeric(10, 2)), 2) as avg_duration_minutes,
        {{ rate_pct("success_status = 'Successful'") }} as success_rate_pct
    from procedures
    group by start_year, start_month, start_month_name
)

select
    per_month.year,
    per_month.month,
    per_month.month_name,
    (per_month.year * 100 + per_month.month > history.first_key / 100 or mod(history.first_key, 100) = 1)
    and (
        per_month.year * 100 + per_month.month < history.last_key / 100
        or history.last_day = {{ dbt.last_day('history.last_day', 'month') }}
    ) as full_month,
    per_month.procedures,
    per_month.completed,
    per_month.operating_hours,
    per_month.avg_duration_minutes,
    per_month.success_rate_pct
from per_month
cross join history
order by per_month.year, per_month.month
