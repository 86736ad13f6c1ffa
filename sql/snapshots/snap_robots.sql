{#- SCD2 history of staging.surgical_robots. Usage counters (total_procedures_count,
    total_operating_hours, last_maintenance_date) are captured but not tracked: they change with
    every procedure and are served as type-1 attributes by dim_robots. -#}
{% snapshot snap_robots %}
select
    robot_id,
    robot_serial_number,
    robot_model,
    manufacturer,
    facility_id,
    install_date,
    software_version,
    hardware_revision,
    status,
    last_maintenance_date,
    total_procedures_count,
    total_operating_hours,
    created_at,
    updated_at,
    {{ snapshot_get_time() }} as snapshot_loaded_at
from {{ source('staging', 'surgical_robots') }}
{% endsnapshot %}
