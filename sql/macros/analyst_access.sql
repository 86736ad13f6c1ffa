{#- Least privilege for analysts: one role, named by MEDROBOTICS_ANALYST_ROLE, gets SELECT on the views (their
    `grants` in dbt_project.yml) and USAGE on their schema (the on-run-end hook below; dbt's grants do not cover
    schemas). The role sees the schema's names but may SELECT only what it was granted: the views. No role
    configured: nothing.
    One mechanism on both targets, granting to the ROLE: on PostgreSQL a role is the only kind of grantee; on
    Redshift users and roles are apart (GRANT ... TO name | ROLE name | GROUP name), so the views' grants say
    `role:<name>` with dbt-redshift's `redshift_grants_extended` flag on (rendered `to ROLE <name>`) and the hook
    says `to role "<name>"`. dbt-redshift does not quote the name, so it must be a plain lower-case identifier
    (checked before anything is built: on-run-start). -#}
{% macro analyst_role() -%}
    {%- set role = env_var('MEDROBOTICS_ANALYST_ROLE', '') | trim -%}
    {%- if role and not modules.re.match('^[a-z_][a-z0-9_]{0,126}$', role) -%}
        {{ exceptions.raise_compiler_error(
            "MEDROBOTICS_ANALYST_ROLE must be a lower-case SQL identifier (letters, digits, _), got " ~ role) }}
    {%- endif -%}
    {{ return(role) }}
{%- endmacro %}

{% macro grant_analyst_schema_usage() -%}
    {%- set role = medrobotics.analyst_role() -%}
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
