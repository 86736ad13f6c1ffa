{{ config(dist='all', sort=['date_key']) }}
{%- set first_day = "cast('2020-01-01' as date)" %}
{%- set last_day = "cast('2029-12-31' as date)" %}

with

digits as (
    {{ digits() }}
),

day_offsets as (
    select thousands.digit * 1000 + hundreds.digit * 100 + tens.digit * 10 + ones.digit as day_offset
    from digits as thousands
    cross join digits as hundreds
    cross join digits as tens
    cross join digits as ones
),

days as (
    select cast({{ dbt.dateadd('day', 'day_offset', first_day) }} as date) as date_day
    from day_offsets
    where day_offset <= {{ dbt.datediff(first_day, last_day, 'day') }}
),

parts as (
    select
        date_day,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(month from date_day) as integer) as month_number,
        cast(extract(day from date_day) as integer) as day_number,
        cast(extract(dow from date_day) as integer) as weekday_number
    from days
),

final as (
    select
        {{ date_key('date_day') }} as date_key,
        date_day as date,
        cast(year_number as smallint) as year,
        cast(extract(quarter from date_day) as smallint) as quarter,
        cast(month_number as smallint) as month,
        cast(trim(to_char(date_day, 'Month')) as {{ varchar_chars(10) }}) as month_name,
        cast(extract(week from date_day) as smallint) as week,
        cast(day_number as smallint) as day_of_month,
        cast(weekday_number as smallint) as day_of_week,
        cast(trim(to_char(date_day, 'Day')) as {{ varchar_chars(10) }}) as day_name,
        weekday_number in (0, 6) as is_weekend,
        case
            when month_number = 1 and day_number = 1 then true
            when month_number = 7 and day_number = 4 then true
            when month_number = 12 and day_number = 25 then true
            else false
        end as is_holiday,
        cast(case when month_number >= 10 then year_number + 1 else year_number end as smallint) as fiscal_year,
        cast(
            case
                when month_number in (10, 11, 12) then 1
                when month_number in (1, 2, 3) then 2
                when month_number in (4, 5, 6) then 3
                else 4
            end as smallint
        ) as fiscal_quarter
    from parts
)

select * from final
