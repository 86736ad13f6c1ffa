{{ config(dist='all', sort=['time_key']) }}

with

digits as (
    {{ digits() }}
),

numbers as (
    select tens.digit * 10 + ones.digit as n
    from digits as tens
    cross join digits as ones
),

minutes_of_day as (
    select
        hours.n as hour_number,
        minutes.n as minute_number
    from numbers as hours
    cross join numbers as minutes
    where hours.n < 24 and minutes.n < 60
),

final as (
    select
        cast(hour_number * 10000 + minute_number * 100 as integer) as time_key,
        cast(
            lpad(cast(hour_number as {{ varchar_chars(2) }}), 2, '0') || ':'
            || lpad(cast(minute_number as {{ varchar_chars(2) }}), 2, '0') || ':00'
            as time
        ) as time_value,
        cast(hour_number as smallint) as hour,
        cast(minute_number as smallint) as minute,
        cast(0 as smallint) as second,
        cast(
            case when hour_number = 0 then 12 when hour_number > 12 then hour_number - 12 else hour_number end
            as smallint
        ) as hour_12,
        cast(case when hour_number < 12 then 'AM' else 'PM' end as {{ varchar_chars(2) }}) as am_pm,
        cast(
            case
                when hour_number >= 5 and hour_number < 12 then 'Morning'
                when hour_number >= 12 and hour_number < 17 then 'Afternoon'
                when hour_number >= 17 and hour_number < 21 then 'Evening'
                else 'Night'
            end as {{ varchar_chars(20) }}
        ) as time_of_day,
        hour_number >= 8 and hour_number < 18 as business_hours
    from minutes_of_day
)

select * from final
