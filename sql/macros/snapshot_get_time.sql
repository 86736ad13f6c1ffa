{#- Snapshots stamp hard deletes (and our snapshot_loaded_at) with snapshot_get_time().
    dbt-postgres uses current_timestamp cast to the *session* time zone; the warehouse is UTC
    throughout (staging converts timestamptz to UTC), so pin it to UTC. Redshift's getdate() is UTC already. -#}
{% macro postgres__snapshot_get_time() -%}
    (current_timestamp at time zone 'utc')::timestamp without time zone
{%- endmacro %}
