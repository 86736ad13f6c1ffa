-- 14. Year-over-year growth of procedures and operating hours (local calendar years).
with per_year as (
    select
        start_year as year,
        count(*) as procedures,
        sum(duration_minutes) / 60.0 as operating_hours
    from {{ ref('int_procedure_members') }}
    group by start_year
),

with_previous as (
    select
        per_year.*,
        lag(procedures) over (order by year) as previous_procedures,
        lag(operating_hours) over (order by year) as previous_operating_hours
    from per_year
)

select
    year,
    procedures,
    previous_procedures,
    round(cast(cast(procedures - previous_procedures as {{ dbt.type_float() }}) / nullif(previous_procedures, 0) * 100 as numeric(10, 2)), 2)
        as procedure_growth_pct,
    round(cast(operating_hours as numeric(14, 2)), 2) as operating_hours,
    round(cast((operating_hours - previous_operating_hours) / nullif(previous_operating_hours, 0) * 100 as numeric(10, 2)), 2)
        as hours_growth_pct
from with_previous
order by year
