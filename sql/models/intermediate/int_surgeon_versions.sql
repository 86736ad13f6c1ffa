-- Every version of every surgeon with its surrogate key and timestamp validity [valid_from_ts, valid_to_ts).
with {{ scd2_version_ctes(ref('snap_surgeons'), 'surgeon_id', 'surgeon_key') }}

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
