{#- Snapshots stamp hard deletes (and our snapshot_loaded_at) with snapshot_get_time().
    dbt-postgres uses current_timestamp cast to the *session* time zone; the warehouse is UTC
    throughout (staging converts timestamptz to UTC), so pin it to UTC. -#}
{% macro postgres__snapshot_get_time() -%}
    (current_timestamp at time zone 'utc')::timestamp without time zone
{%- endmacro %}

{#- dispatch tries every prefix of the root project before any adapter package, so without this the
    postgres__ override above would win on Redshift too, and current_timestamp is leader-node only there
    (an error in any query over user tables). getdate() is the statement's start time, UTC by default. -#}
{% macro redshift__snapshot_get_time() -%}
    getdate()
{%- endmacro %}
