{#- SCD2 history of staging.surgeons. snapshot_loaded_at records the run that inserted each
    version; it orders the surrogate keys (see macros/scd2_versions.sql). -#}
{% snapshot snap_surgeons %}
select
    surgeon_id,
    surgeon_name,
    specialization,
    years_experience,
    certification_level,
    facility_id,
    created_at,
    updated_at,
    {{ snapshot_get_time() }} as snapshot_loaded_at
from {{ source('staging', 'surgeons') }}
{% endsnapshot %}
