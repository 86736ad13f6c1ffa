{#- Timestamp-precision SCD2 windows over a dbt snapshot, as CTEs ending in `scd2_versions`.
    Use as:  with x_snapshots as (select * from {{ ref('snap_x') }}),
             {{ scd2_version_ctes('x_snapshots', 'x_id', 'x_key') }}, final as (select ... from scd2_versions)

    Surrogate key: row_number() over (order by snapshot_loaded_at, natural id, ...). Stable because
      * snapshots never delete or rewrite rows (dbt only sets dbt_valid_to on closed versions), and
      * snapshot_loaded_at is the time of the run that inserted the row, so rows inserted by a later run
        sort after every existing row; within one run a member gets at most one new row (the source
        key is unique - tested), so (snapshot_loaded_at, natural id) orders all rows deterministically.
      Existing rows therefore keep their rank and new versions take the next numbers. (Ordering by
      dbt_valid_from would not be stable: with updated_at set it is the *source* change time, and a
      member can appear later with an older updated_at.)

    Windows, half-open [valid_from_ts, valid_to_ts):
      * the first version of EVERY member starts at var history_start exactly (one rule for every member
        of every dimension, whatever its first dbt_valid_from, earlier or later), so facts older than the
        member's first snapshot resolve to it, and a point-in-time lookup from one dimension into another
        (a robot version's facility) always finds a version: a member-dependent first start such as
        least(history_start, dbt_valid_from) would let a robot's first version begin before any version of
        its facility. Facts before history_start resolve to nothing (dim_date starts there too);
      * later versions start at dbt_valid_from (source updated_at), but never before the previous
        version's end (a member re-appearing after a hard delete) and never before an earlier version's
        start (non-increasing updated_at) - so windows never overlap;
      * a version ends at dbt_valid_to (next change, hard-delete time, or far future when current),
        capped at the next version's start;
      * ended_by_delete: the version was closed without a successor starting at that instant (the member
        left the source); the only place a member's windows may leave a gap. -#}
{% macro scd2_version_ctes(snapshot_relation, natural_id, key_name) -%}
snapshot_rows as (
    select
        snap.*,
        row_number() over (
            order by snap.snapshot_loaded_at, snap.{{ natural_id }}, snap.dbt_valid_from, snap.dbt_scd_id
        ) as scd2_surrogate_key,
        row_number() over (
            partition by snap.{{ natural_id }}
            order by snap.snapshot_loaded_at, snap.dbt_valid_from, snap.dbt_scd_id
        ) as version_number
    from {{ snapshot_relation }} as snap
),

with_previous as (
    select
        snapshot_rows.*,
        lag(dbt_valid_to) over (partition by {{ natural_id }} order by version_number) as previous_valid_to
    from snapshot_rows
),

candidate_starts as (
    select
        with_previous.*,
        case
            when version_number = 1 then {{ history_start_timestamp() }}
            else greatest(dbt_valid_from, previous_valid_to)
        end as candidate_valid_from
    from with_previous
),

monotonic_starts as (
    select
        candidate_starts.*,
        max(candidate_valid_from) over (
            partition by {{ natural_id }} order by version_number
            rows between unbounded preceding and current row
        ) as valid_from_ts
    from candidate_starts
),

with_next as (
    select
        monotonic_starts.*,
        lead(valid_from_ts) over (partition by {{ natural_id }} order by version_number) as next_valid_from,
        lead(dbt_valid_from) over (partition by {{ natural_id }} order by version_number) as next_dbt_valid_from
    from monotonic_starts
),

with_end_reason as (
    select
        with_next.*,
        case
            when dbt_valid_to is null or dbt_valid_to = {{ far_future_timestamp() }} then false
            when next_dbt_valid_from is not null and next_dbt_valid_from = dbt_valid_to then false
            else true
        end as ended_by_delete
    from with_next
),

scd2_versions as (
    select
        with_end_reason.*,
        cast(scd2_surrogate_key as integer) as {{ key_name }},
        greatest(
            valid_from_ts,
            case
                -- closed by a change: ends exactly where its successor starts (no gap, no overlap)
                when next_valid_from is not null and not ended_by_delete then next_valid_from
                else least(coalesce(dbt_valid_to, {{ far_future_timestamp() }}), coalesce(next_valid_from, {{ far_future_timestamp() }}))
            end
        ) as valid_to_ts
    from with_end_reason
)
{%- endmacro %}
