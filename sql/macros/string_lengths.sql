{#- Every string length of the models: a VARCHAR holding `characters` characters. PostgreSQL counts VARCHAR(n) in
    characters, Redshift in bytes, so on Redshift it is n * utf8_max_bytes_per_char bytes (UTF-8's widest character),
    at most redshift_max_varchar_bytes: the rule medrobotics_dagster/column_types.py applies to the tables Python
    loads (vars in dbt_project.yml; a test renders both and compares). No length: unbounded text, which on Redshift
    is the widest VARCHAR (a bare VARCHAR there is 256 bytes). The redshift__ implementation lives here, in the root
    project: dispatch would otherwise pick a root postgres__ one before any adapter's redshift__. -#}
{% macro varchar_chars(characters=none) -%}
    {{ return(adapter.dispatch('varchar_chars', 'medrobotics')(characters)) }}
{%- endmacro %}

{% macro default__varchar_chars(characters) -%}
    {%- if characters is none -%}
        varchar
    {%- else -%}
        varchar({{ characters | int }})
    {%- endif -%}
{%- endmacro %}

{% macro redshift__varchar_chars(characters) -%}
    {%- set widest = var('redshift_max_varchar_bytes') | int -%}
    {%- if characters is none -%}
        varchar({{ widest }})
    {%- else -%}
        varchar({{ [(characters | int) * (var('utf8_max_bytes_per_char') | int), widest] | min }})
    {%- endif -%}
{%- endmacro %}
