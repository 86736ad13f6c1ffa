"""The generated world read as an analyst would: local clock, double bookings, maintenance, calendar shape, and
how robot models differ in telemetry and outcomes and how outcomes follow surgeons' experience.

    python -m medrobotics_dagster_tests.benchmarks.world_report [--scale 1] [--seed 42]

Local time is the facility's IANA zone (DST-aware); business hours, Night and holidays as dim_time/dim_date define them.
"""

import argparse
import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from medrobotics_dagster.synthetic import catalog
from medrobotics_dagster.synthetic.world import build_world
from medrobotics_dagster_tests.benchmarks import world_structure

HOLIDAYS = {(1, 1), (7, 4), (12, 25)}  # dim_date's is_holiday


def overlaps(procs: list[dict], key: str) -> list[float]:
    """Minutes of overlap of each pair of procedures on the same `key` (robot or surgeon) that overlap."""
    found = []
    by_key = defaultdict(list)
    for p in procs:
        by_key[p[key]].append(p)
    for rows in by_key.values():
        rows.sort(key=lambda p: p["start_time"])
        for i, p in enumerate(rows):
            for q in rows[i + 1 :]:
                if q["start_time"] >= p["end_time"]:
                    break
                found.append((min(p["end_time"], q["end_time"]) - q["start_time"]).total_seconds() / 60)
    return found


def is_night(hour: int) -> bool:
    return hour >= 21 or hour < 5


def report(scale: float, seed: int) -> dict:
    world = build_world(scale, seed)
    rows = world.rows
    procs = rows["surgical_procedures"]
    zones = {f["facility_id"]: ZoneInfo(f["time_zone"]) for f in rows["facilities"]}
    local = [(p, p["start_time"].astimezone(zones[p["facility_id"]])) for p in procs]
    robot_pairs, surgeon_pairs = overlaps(procs, "robot_id"), overlaps(procs, "surgeon_id")
    robots_with_overlap = len({p["robot_id"] for p in procs} & set(_robots_overlapping(procs)))

    maintenance = defaultdict(dict)  # robot -> day -> type
    for log in rows["robot_maintenance_logs"]:
        maintenance[log["robot_id"]][log["maintenance_date"]] = log["maintenance_type"]
    on_maintenance_day = []
    for p, start in local:
        end = p["end_time"].astimezone(start.tzinfo)
        days = {start.date() + timedelta(d) for d in range((end.date() - start.date()).days + 1)}
        hit = [maintenance[p["robot_id"]][d] for d in days if d in maintenance[p["robot_id"]]]
        if hit:
            on_maintenance_day.append(hit[0])
    in_maintenance = [r for r in rows["surgical_robots"] if r["status"] == "maintenance"]
    active_after = sum(
        any(
            p["robot_id"] == r["robot_id"] and p["start_time"].date() >= (r["last_maintenance_date"] or date.max)
            for p in procs
        )
        for r in in_maintenance
    )

    per_day = Counter(start.date() for _, start in local)
    kinds = defaultdict(list)
    day = catalog.HISTORY_START
    while day <= catalog.HISTORY_END:
        kind = "holiday" if (day.month, day.day) in HOLIDAYS else "weekend" if day.weekday() >= 5 else "weekday"
        kinds[kind].append(per_day.get(day, 0))
        day += timedelta(1)
    years = Counter(start.year for _, start in local)
    local_hours = Counter(start.hour for _, start in local)
    utc_hours = Counter(p["start_time"].hour for p in procs)
    n = len(procs)
    return {
        "procedures": n,
        "robot_overlap_pairs": len(robot_pairs),
        "robots_with_overlaps": robots_with_overlap,
        "robot_overlap_mean_min": round(statistics.mean(robot_pairs), 1) if robot_pairs else 0,
        "surgeon_overlap_pairs": len(surgeon_pairs),
        "procedures_on_own_maintenance_day": len(on_maintenance_day),
        "of_which_corrective": on_maintenance_day.count("corrective"),
        "robots_in_maintenance_status": len(in_maintenance),
        "of_which_operating_after_last_maintenance": active_after,
        "business_hours_share_local": round(sum(local_hours[h] for h in range(8, 18)) / n, 3),
        "business_hours_share_utc": round(sum(utc_hours[h] for h in range(8, 18)) / n, 3),
        "night_share_local": round(sum(c for h, c in local_hours.items() if is_night(h)) / n, 3),
        "night_share_utc": round(sum(c for h, c in utc_hours.items() if is_night(h)) / n, 3),
        "local_starts_at_7_vs_17": (local_hours[7], local_hours[17]),
        "sundays_local_vs_utc": (
            sum(s.weekday() == 6 for _, s in local),
            sum(p["start_time"].weekday() == 6 for p in procs),
        ),
        "mean_per_weekday": round(statistics.mean(kinds["weekday"]), 2),
        "mean_per_weekend_day": round(statistics.mean(kinds["weekend"]), 2),
        "mean_per_holiday": round(statistics.mean(kinds["holiday"]), 2),
        "procedures_by_local_year": dict(sorted(years.items())),
        "growth_2024_over_2023": round(years[2024] / years[2023] - 1, 3) if years[2023] else None,
    }


def _robots_overlapping(procs: list[dict]) -> set[str]:
    by_robot = defaultdict(list)
    for p in procs:
        by_robot[p["robot_id"]].append(p)
    return {robot for robot, rows in by_robot.items() if overlaps(rows, "robot_id")}


def print_table(title: str, rows: dict[str, dict]) -> None:
    """Rows keyed by their label, as aligned columns under a title."""
    columns = list(next(iter(rows.values())))
    print(f"\n{title}")
    print(f"{'':14s}" + "".join(f"{c:>19s}" for c in columns))
    for label, row in rows.items():
        print(f"{label:14s}" + "".join(f"{str(row[c]):>19s}" for c in columns))


def print_structure(scale: float, seed: int) -> None:
    """Per-model telemetry and outcomes, the experience curve and the best surgeons' success rates."""
    world = build_world(scale, seed)
    print_table("telemetry by robot model (every sample)", world_structure.per_model_telemetry(world, seed))
    print_table("outcomes of completed procedures by robot model", world_structure.per_model_outcomes(world))
    print_table("outcomes by surgeon experience", world_structure.experience_curve(world))
    print(f"\nsurgeons' years of experience: {world_structure.experience_spread(world)}")
    minimum = world_structure.MIN_SURGEON_PROCEDURES
    print(f"success % of the ten best surgeons (>= {minimum} procedures): {world_structure.top_surgeon_success(world)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    for name, value in report(args.scale, args.seed).items():
        print(f"{name:45s} {value}")
    print_structure(args.scale, args.seed)


if __name__ == "__main__":
    main()
