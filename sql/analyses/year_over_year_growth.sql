-- 14. Year-over-year growth of procedures and operating hours (local calendar years), like for like: a year the
-- history covers only in part (its first or last) is marked, and each year is compared with the same days of the
-- previous year (compared_days), never a whole year with a month of one.
with procedures as (
    select
        start_year as year,
        mod(start_date_key, 10000) as month_day,
        start_date_key,
        duration_minutes
    from {{ ref('int_procedure_members') }}
),

history as (
    select
        min(start_date_key) as first_key,
        max(start_date_key) as last_key
    from procedures
),

per_year as (
    select
        procedures.year,
        count(*) as procedures,
        sum(procedures.duration_minutes) / 60.0 as operating_hours,
        -- the days of the year the history covers, as MMDD
        case when procedures.year = min(history.first_key) / 10000 then mod(min(history.first_key), 10000) else 101 end
            as covered_from,
        case when procedures.year = min(history.last_key) / 10000 then mod(min(history.last_key), 10000) else 1231 end
            as covered_to
    from procedures
    cross join history
    group by procedures.year
),

compared as (
    select
        current_year.year,
        greatest(current_year.covered_from, previous_year.covered_from) as compared_from,
        least(current_year.covered_to, previous_year.covered_to) as compared_to
    from per_year as current_year
    inner join per_year as previous_year on previous_year.year = current_year.year - 1
    -- no day of the year covered in both (a history shorter than a year): nothing to compare
    where
        greatest(current_year.covered_from, previous_year.covered_from)
        <= least(current_year.covered_to, previous_year.covered_to)
),

same_days as (
    select
        compared.year,
        compared.compared_from,
        compared.compared_to,
        sum(case when procedures.year = compared.year then 1 else 0 end) as procedures,
        sum(case when procedures.year = compared.year - 1 then 1 else 0 end) as previous_procedures,
        sum(case when procedures.year = compared.year then procedures.duration_minutes else 0 end) / 60.0 as hours,
        sum(case when procedures.year = compared.year - 1 then procedures.duration_minutes else 0 end) / 60.0
            as previous_hours
    from compared
    inner join procedures
        on procedures.year in (compared.year, compared.year - 1)
        and procedures.month_day between compared.compared_from and compared.compared_to
    group by compared.year, compared.compared_from, compared.compared_to
)

select
    per_year.year,
    per_year.covered_from = 101 and per_year.covered_to = 1231 as full_year,
    per_year.procedures,
    round(cast(per_year.operating_hours as numeric(14, 2)), 2) as operating_hours,
    {{ month_day_text('same_days.compared_from') }} || '..' || {{ month_day_text('same_days.compared_to') }}
        as compared_days,
    same_days.procedures as procedures_on_compared_days,
    same_days.previous_procedures as previous_year_on_compared_days,
    round(cast(
        cast(same_days.procedures - same_days.previous_procedures as {{ dbt.type_float() }})
        / nullif(same_days.previous_procedures, 0) * 100 as numeric(10, 2)
    ), 2) as procedure_growth_pct,
    round(cast(
        (same_days.hours - same_days.previous_hours) / nullif(same_days.previous_hours, 0) * 100
        as numeric(10, 2)
    ), 2) as hours_growth_pct
from per_year
left join same_days on same_days.year = per_year.year
order by per_year.year
