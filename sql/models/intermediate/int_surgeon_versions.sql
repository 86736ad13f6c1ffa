with

surgeon_snapshots as (
    select * from {{ ref('snap_surgeons') }}
),

{{ scd2_version_ctes('surgeon_snapshots', 'surgeon_id', 'surgeon_key') }},

final as (
    select
        surgeon_key,
        surgeon_id,
        surgeon_name,
        specialization,
        years_experience,
        certification_level,
        facility_id,
        version_number,
        valid_from_ts,
        valid_to_ts,
        ended_by_delete,
        case when valid_to_ts = {{ far_future_timestamp() }} then true else false end as is_current
    from scd2_versions
)

select * from final
