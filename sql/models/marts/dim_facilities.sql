{{ config(dist='all', sort=['facility_id', 'effective_date']) }}

with

facility_versions as (
    select * from {{ ref('int_facility_versions') }}
),

final as (
    select
        facility_key,
        cast(facility_id as {{ varchar_chars(50) }}) as facility_id,
        cast(facility_name as {{ varchar_chars(200) }}) as facility_name,
        cast(city as {{ varchar_chars(100) }}) as city,
        cast(state as {{ varchar_chars(50) }}) as state,
        cast(country as {{ varchar_chars(50) }}) as country,
        cast(time_zone as {{ varchar_chars(64) }}) as time_zone,
        cast(facility_type as {{ varchar_chars(50) }}) as facility_type,
        cast(bed_count as integer) as bed_count,
        cast(valid_from_ts as date) as effective_date,
        cast(case when is_current then null else valid_to_ts end as date) as expiration_date,
        is_current,
        cast(valid_from_ts as timestamp) as valid_from,
        cast(valid_to_ts as timestamp) as valid_to
    from facility_versions
)

select * from final
