{#- Deterministic keys shared by the warehouse models. -#}

{#- A stable positive BIGINT from a text id: the first 60 bits of md5(id). Used as procedure_key so
    that deleting and re-inserting a partition never renumbers facts (no IDENTITY columns). -#}
{% macro stable_bigint_key(expr) -%}
    {{ return(adapter.dispatch('stable_bigint_key', 'medrobotics')(expr)) }}
{%- endmacro %}

{% macro default__stable_bigint_key(expr) -%}
    cast(('x' || left(md5(cast({{ expr }} as {{ medrobotics.varchar_chars() }})), 15))::bit(60) as bigint)
{%- endmacro %}

{% macro redshift__stable_bigint_key(expr) -%}
    cast(strtol(left(md5(cast({{ expr }} as {{ medrobotics.varchar_chars() }})), 15), 16) as bigint)
{%- endmacro %}

{#- dim_date key of a date/timestamp: YYYYMMDD as integer. -#}
{% macro date_key(expr) -%}
    cast(to_char({{ expr }}, 'YYYYMMDD') as integer)
{%- endmacro %}

{#- dim_time key of a timestamp: hour*10000 + minute*100 (minute grain, seconds dropped). -#}
{% macro time_key(expr) -%}
    cast(extract(hour from {{ expr }}) * 10000 + extract(minute from {{ expr }}) * 100 as integer)
{%- endmacro %}

{#- Open end of the current SCD2 version (same literal as the snapshots' dbt_valid_to_current). -#}
{% macro far_future_timestamp() -%}
    cast('9999-12-31' as timestamp)
{%- endmacro %}

{#- Start of history (var history_start): the first version of every member is valid from here. -#}
{% macro history_start_timestamp() -%}
    {%- set day = medrobotics.parse_window_bound(
        var('history_start', '2020-01-01'), 'history_start', round_up=false
    ) -%}
    cast('{{ day }}' as timestamp)
{%- endmacro %}
