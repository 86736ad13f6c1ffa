with

facility_snapshots as (
    select * from {{ ref('snap_facilities') }}
),

{{ scd2_version_ctes('facility_snapshots', 'facility_id', 'facility_key') }},

final as (
    select
        facility_key,
        facility_id,
        facility_name,
        city,
        state,
        country,
        time_zone,
        facility_type,
        bed_count,
        version_number,
        valid_from_ts,
        valid_to_ts,
        ended_by_delete,
        case when valid_to_ts = {{ far_future_timestamp() }} then true else false end as is_current
    from scd2_versions
)

select * from final
