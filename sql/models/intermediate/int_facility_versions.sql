-- Every version of every facility with its surrogate key and timestamp validity [valid_from_ts, valid_to_ts).
-- Dimension and fact models join on these timestamps: DATE granularity is too coarse for point-in-time joins.
with {{ scd2_version_ctes(ref('snap_facilities'), 'facility_id', 'facility_key') }}

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
