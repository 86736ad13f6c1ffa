{#- SCD2 history of staging.facilities. snapshot_loaded_at records the run that inserted each
    version; it orders the surrogate keys (see macros/scd2_versions.sql). -#}
{% snapshot snap_facilities %}
select
    facility_id,
    facility_name,
    city,
    state,
    country,
    time_zone,
    facility_type,
    bed_count,
    created_at,
    updated_at,
    {{ snapshot_get_time() }} as snapshot_loaded_at
from {{ source('staging', 'facilities') }}
{% endsnapshot %}
