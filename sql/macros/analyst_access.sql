{#- Least privilege for analysts. The views carry `grants: select` for the role named by MEDROBOTICS_ANALYST_ROLE
    (dbt_project.yml); this hook lets that role into the views' schema, which dbt's grants do not cover. The role
    sees the schema's names but may SELECT only what it was granted: the views. No role configured: nothing. -#}
{% macro grant_analyst_schema_usage() -%}
    {%- set role = env_var('MEDROBOTICS_ANALYST_ROLE', '') | trim -%}
    {%- if role and execute -%}
        {{ return(adapter.dispatch('grant_analyst_schema_usage', 'medrobotics')(role)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__grant_analyst_schema_usage(role) -%}
    grant usage on schema {{ adapter.quote('analytics') }} to {{ adapter.quote(role) }}
{%- endmacro %}

{% macro redshift__grant_analyst_schema_usage(role) -%}
    grant usage on schema {{ adapter.quote('analytics') }} to role {{ adapter.quote(role) }}
{%- endmacro %}
