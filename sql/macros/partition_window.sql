{#- Partition window of the incremental facts, [min, max), UTC: environment variables MEDROBOTICS_DBT_MIN_DATE /
    MEDROBOTICS_DBT_MAX_DATE (what Dagster sets), else vars min_date / max_date (by hand). Dagster passes the window
    through the environment because a changed --vars value makes dbt re-parse the whole project; and the window is
    read only when dbt executes, never while it parses, because dbt re-parses every file whose parse read an
    environment variable that has changed since (a second of every dbt step here, each with a window of its own).
    Values may be ISO dates or timestamps ("2024-01-15", "2024-01-15T00:00:00+00:00"); the window is
    widened to whole UTC days (start floored, end rounded up) because partitions are UTC days of start_time.
    Values are parsed as dates and re-rendered, so nothing from the vars reaches SQL unparsed. -#}

{% macro parse_window_bound(value, name, round_up) -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- set ns = namespace(day=none) -%}
    {%- if text | length >= 10 -%}
        {%- set ns.day = modules.re.match('^([0-9]{4})-([0-9]{2})-([0-9]{2})$', text[:10]) -%}
    {%- endif -%}
    {%- if ns.day is none -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be an ISO date or timestamp, got " ~ text) }}
    {%- endif -%}
    {%- set day = modules.datetime.date(ns.day.group(1) | int, ns.day.group(2) | int, ns.day.group(3) | int) -%}
    {%- set rest = text[10:] | replace('T', ' ') | trim -%}
    {%- if round_up and rest != '' and not modules.re.match('^00:00(:00([.]0+)?)?([+-]00(:?00)?|Z)?$', rest) -%}
        {%- set day = day + modules.datetime.timedelta(days=1) -%}
    {%- endif -%}
    {{ return(day.isoformat()) }}
{%- endmacro %}

{#- {'min_day': 'YYYY-MM-DD' or none, 'max_day': 'YYYY-MM-DD' or none} -#}
{% macro partition_window() -%}
    {%- if not execute -%}
        {{ return({'min_day': none, 'max_day': none}) }}
    {%- endif -%}
    {{ return({
        'min_day': medrobotics.parse_window_bound(env_var('MEDROBOTICS_DBT_MIN_DATE', '') or var('min_date', none), 'min_date', round_up=false),
        'max_day': medrobotics.parse_window_bound(env_var('MEDROBOTICS_DBT_MAX_DATE', '') or var('max_date', none), 'max_date', round_up=true),
    }) }}
{%- endmacro %}

{#- Predicate selecting source rows whose timestamp falls in the window (true without vars). -#}
{% macro in_partition_window(timestamp_column) -%}
    {%- set w = medrobotics.partition_window() -%}
    {%- if w.min_day is none and w.max_day is none -%}
        1 = 1
    {%- else -%}
        {%- if w.min_day is not none %}{{ timestamp_column }} >= cast('{{ w.min_day }}' as timestamp){% endif -%}
        {%- if w.min_day is not none and w.max_day is not none %} and {% endif -%}
        {%- if w.max_day is not none %}{{ timestamp_column }} < cast('{{ w.max_day }}' as timestamp){% endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of a partitioned incremental model: delete the window's rows from the existing table, cut on the
    same UTC timestamp column the model selects its source rows by (the facts' date keys are local days, which
    do not line up with UTC partitions). dbt runs pre-hooks inside the model's transaction, before the insert,
    so the window is replaced atomically; a failure after the delete rolls it back. No vars = whole table. -#}
{% macro delete_partition_window(timestamp_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ medrobotics.in_partition_window(timestamp_column) }}
    {%- endif -%}
{%- endmacro %}
