{{ config(dist='all', sort=['surgeon_id', 'effective_date']) }}

with

surgeon_versions as (
    select * from {{ ref('int_surgeon_versions') }}
),

final as (
    select
        surgeon_key,
        cast(surgeon_id as {{ varchar_chars(50) }}) as surgeon_id,
        cast(surgeon_name as {{ varchar_chars(200) }}) as surgeon_name,
        cast(specialization as {{ varchar_chars(100) }}) as specialization,
        cast(years_experience as integer) as years_experience,
        cast(certification_level as {{ varchar_chars(50) }}) as certification_level,
        cast(valid_from_ts as date) as effective_date,
        cast(case when is_current then null else valid_to_ts end as date) as expiration_date,
        is_current,
        cast(valid_from_ts as timestamp) as valid_from,
        cast(valid_to_ts as timestamp) as valid_to
    from surgeon_versions
)

select * from final
