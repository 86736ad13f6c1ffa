{#- Local wall-clock time of a UTC timestamp in an IANA time zone (daylight saving applied), for the facts'
    local date and time keys. Both arguments are SQL expressions; the result is a timestamp without time zone.
    Every implementation lives in this project: when the target is redshift, a root-project postgres__ macro
    would be chosen before a redshift__ one from anywhere else. -#}
{% macro utc_to_local(timestamp_utc, time_zone) -%}
    {{ return(adapter.dispatch('utc_to_local', 'medrobotics')(timestamp_utc, time_zone)) }}
{%- endmacro %}

{% macro default__utc_to_local(timestamp_utc, time_zone) -%}
    timezone({{ time_zone }}, timezone('UTC', {{ timestamp_utc }}))
{%- endmacro %}

{% macro postgres__utc_to_local(timestamp_utc, time_zone) -%}
    (({{ timestamp_utc }}) at time zone 'UTC') at time zone ({{ time_zone }})
{%- endmacro %}

{% macro redshift__utc_to_local(timestamp_utc, time_zone) -%}
    convert_timezone('UTC', {{ time_zone }}, {{ timestamp_utc }})
{%- endmacro %}
