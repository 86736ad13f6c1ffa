"""The UI as a user sees it: `dagster dev` (webserver + daemon) on a free port over a small generated world.

`dagster dev` is started as the README starts it (from the repository root, DAGSTER_HOME set) and must not warn about
our own setup. Through Dagster's own Python GraphQL client: a job materialization (dimensions), a partition-range
backfill (procedure facts for every day of the world, one run) and a run of the analysts' views, each waited for
until it succeeds; the warehouse row counts then match the source. Then headless Chromium opens the warehouse
group's asset graph (no first-visit dialog over it), a view's page (its preview rows and headline figures, and their
plot) and a daily fact's plots (one point per partition loaded, each that day's row count), and saves screenshots
(kept under $MEDROBOTICS_TEST_ARTIFACTS, default .medrobotics/test-artifacts/ui/).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from medrobotics_dagster.defs.warehouse.fact_partition_metadata import PARTITION_ROW_COUNT
from medrobotics_dagster.defs.warehouse.view_metadata import VIEW_SUMMARIES
from medrobotics_dagster.local_instance import prepare_home
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.synthetic.generator import generate
from medrobotics_dagster_tests.dagster_dev import LOCATION, DagsterDev
from medrobotics_dagster_tests.database import query
from medrobotics_dagster_tests.ui.asset_pages import (
    click_button,
    metadata_value,
    plotted_points,
    scroll_to,
    table_rows,
)
from medrobotics_dagster_tests.ui.headless_chromium import HeadlessChromium, find_chromium

REPO = Path(__file__).resolve().parents[2]
# The five weeks up to yesterday: a partitioned asset's plots show the latest 120 partitions of its definition.
YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)
WORLD = (YESTERDAY - timedelta(days=36), YESTERDAY)
# `dagster dev` warns so when the folder it starts in holds a dagster.yaml that DAGSTER_HOME makes it ignore.
IGNORED_INSTANCE_CONFIG = "Found a dagster instance configuration value"
CHROMIUM = find_chromium()

pytestmark = [
    pytest.mark.long,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason=(
            "Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it): "
            "the UI test needs a real browser"
        ),
    ),
]


def artifacts_dir() -> Path:
    return Path(os.environ.get("MEDROBOTICS_TEST_ARTIFACTS") or REPO / ".medrobotics" / "test-artifacts") / "ui"


def wait_for_run(client, run_id: str, timeout: float = 180) -> str:
    from dagster import DagsterRunStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get_run_status(run_id)
        if status in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED):
            return status.value
        time.sleep(1)
    raise TimeoutError(f"run {run_id} still {status} after {timeout} s")


LAUNCH_BACKFILL = """
mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
  }
}
"""
BACKFILL_STATUS = """
query BackfillStatus($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status numPartitions }
    ... on PythonError { message }
  }
}
"""
BACKFILL_RUNS = """
query BackfillRuns($id: String!) {
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
    ... on Runs { results { runId status tags { key value } } }
  }
}
"""


def wait_for_backfill(client, backfill_id: str, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        result = client._execute(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        status = result.get("status")
        if status in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"):
            return status
        time.sleep(1)
    raise TimeoutError(f"backfill {backfill_id} still {status} after {timeout} s")


@pytest.fixture
def world(source_url, warehouse_url, tmp_path):
    generate(source_url, Lake(url=str(tmp_path / "generated_lake")), scale=0.006, seed=3, start=WORLD[0], end=WORLD[1])
    return source_url, warehouse_url


@pytest.fixture
def dagster_dev(world, dagster_storage, tmp_path):
    source_url, warehouse_url = world
    home = tmp_path / "dagster_home"
    home.mkdir()
    prepare_home(home)  # as `demo` prepares it: deploy/dagster.local.yaml, the UI's first visit done
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "MEDROBOTICS_HOME": str(tmp_path / ".medrobotics"),
        "MEDROBOTICS_SOURCE_DB_URL": source_url,
        "MEDROBOTICS_WAREHOUSE_URL": warehouse_url,
        # an empty lake: the raw-telemetry sensor finds nothing and launches no runs of its own
        "MEDROBOTICS_LAKE_URL": str(tmp_path / "empty_lake"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DAGSTER_DISABLE_TELEMETRY": "true",
    }
    env.pop("MEDROBOTICS_ENV", None)
    artifacts_dir().mkdir(parents=True, exist_ok=True)
    server = DagsterDev(env, artifacts_dir() / "dagster_dev.log")
    try:
        yield server
    finally:
        server.stop()


def view_page_shows_its_preview_and_figures(browser: HeadlessChromium, port: int, warehouse_url: str) -> Path:
    """vw_procedure_outcomes' page: its rows in the preview, its figures equal to the view's own numbers, plotted."""
    view = "vw_procedure_outcomes"
    rows, procedures, successful = query(
        warehouse_url,
        f"SELECT count(*), sum(total_procedures)::int, sum(successful_count)::int FROM analytics.{view}",
    )[0]
    browser.navigate(f"http://127.0.0.1:{port}/assets/warehouse/{view}")
    browser.wait_for(f"document.body.innerText.includes('{min(rows, 5)} of {rows:,} rows')", timeout=60)  # preview
    page = table_rows(browser)
    order = VIEW_SUMMARIES[view].preview_order
    first = query(warehouse_url, f"SELECT procedure_type FROM analytics.{view} ORDER BY {order} LIMIT 1")[0][0]
    assert metadata_value(page, "preview").split("\n")[1].startswith(first)  # the preview's first row
    assert int(metadata_value(page, "procedures").replace(",", "")) == procedures > 0
    assert float(metadata_value(page, "success rate %")) == pytest.approx(100 * successful / procedures)
    scroll_to(browser, "preview")
    shot = browser.screenshot(artifacts_dir() / "view_figures.png")
    click_button(browser, "Plots")  # the figures over materializations: one so far
    assert list(plotted_points(browser, "success rate %", 1).values()) == [pytest.approx(100 * successful / procedures)]
    return shot


def fact_plot_has_a_point_per_partition(browser: HeadlessChromium, port: int, warehouse_url: str, days) -> Path:
    """fact_procedures' plots, by partition: each loaded day's own row count, zero for a day without procedures."""
    rows = dict(
        query(
            warehouse_url,
            "SELECT to_char(start_time, 'YYYY-MM-DD'), count(*) FROM analytics.fact_procedures GROUP BY 1",
        )
    )
    browser.navigate(f"http://127.0.0.1:{port}/assets/warehouse/fact_procedures")
    click_button(browser, "Plots")
    assert plotted_points(browser, PARTITION_ROW_COUNT, len(days)) == {day: rows.get(day, 0) for day in days}
    return browser.screenshot(artifacts_dir() / "fact_partition_plot.png")


def test_the_ui_launches_runs_and_a_backfill_and_shows_the_graph_a_views_figures_and_a_facts_plot(
    dagster_dev, world, tmp_path
):
    from dagster_graphql import DagsterGraphQLClient

    source_url, warehouse_url = world
    client = DagsterGraphQLClient("127.0.0.1", port_number=dagster_dev.port, timeout=60)
    dagster_dev.wait_until_serving(client)
    started = dagster_dev.log_path.read_text(errors="replace")
    assert "Launching Dagster services" in started and IGNORED_INSTANCE_CONFIG not in started

    # a materialization: the dimensions run mode
    run_id = client.submit_job_execution(
        "dimensions_job", repository_location_name=LOCATION, repository_name="__repository__"
    )
    assert wait_for_run(client, run_id) == "SUCCESS", dagster_dev.log_tail()
    for table in ("facilities", "surgeons", "surgical_robots"):
        source = query(source_url, f"SELECT count(*) FROM {table}")
        assert query(warehouse_url, f"SELECT count(*) FROM staging.{table}") == source
    assert (
        query(warehouse_url, "SELECT count(*) FROM analytics.dim_robots WHERE is_current")[0][0]
        == query(source_url, "SELECT count(*) FROM surgical_robots")[0][0]
    )

    # a partition-range backfill: procedure facts for every day of the world, in one run (single_run policy)
    days = [(WORLD[0] + timedelta(days=i)).isoformat() for i in range((WORLD[1] - WORLD[0]).days + 1)]
    assets = [
        ["staging", "surgical_procedures"],
        ["staging", "procedure_outcomes"],
        ["warehouse", "fact_procedures"],
        ["warehouse", "fact_procedures_quarantine"],
    ]
    launched = client._execute(
        LAUNCH_BACKFILL,
        {
            "params": {
                "assetSelection": [{"path": p} for p in assets],
                "partitionNames": days,
                "title": "procedures, whole world",
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]
    assert wait_for_backfill(client, backfill_id) in ("COMPLETED", "COMPLETED_SUCCESS"), dagster_dev.log_tail()
    runs = client._execute(BACKFILL_RUNS, {"id": backfill_id})["runsOrError"]["results"]
    assert [r["status"] for r in runs] == ["SUCCESS"]  # the whole range in one run
    tags = {t["key"]: t["value"] for t in runs[0]["tags"]}
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
        days[0],
        days[-1],
    )
    assert query(warehouse_url, "SELECT count(*) FROM analytics.fact_procedures") == query(
        source_url, "SELECT count(*) FROM surgical_procedures"
    )
    assert query(warehouse_url, "SELECT count(*) FROM analytics.fact_procedures_quarantine") == [(0,)]

    # the analysts' views, with their figures
    run_id = client.submit_job_execution(
        "__ASSET_JOB",
        repository_location_name=LOCATION,
        repository_name="__repository__",
        asset_selection=[["warehouse", view] for view in VIEW_SUMMARIES],
    )
    assert wait_for_run(client, run_id) == "SUCCESS", dagster_dev.log_tail()

    # the asset graph in a real browser
    with HeadlessChromium(CHROMIUM, tmp_path / "chromium-profile") as browser:
        browser.navigate(f"http://127.0.0.1:{dagster_dev.port}/locations/{LOCATION}/asset-groups/warehouse")
        dialog = "document.body.innerText.includes('Join the Dagster community')"
        names = ["dim_robots", "dim_facilities", "dim_date", "fact_procedures", "snap_robots"]  # in the viewport
        condition = " && ".join(f"document.body.innerText.includes('{n}')" for n in names)
        browser.wait_for(condition, timeout=60)
        assert browser.evaluate(
            "Array.from(document.querySelectorAll('body *')).some(e => e.childElementCount === 0 && "
            "e.textContent.startsWith('vw_'))"
        )
        time.sleep(1)  # let the graph finish its layout animation before the picture
        assert not browser.evaluate(dialog), "the first-visit dialog covers the asset graph"
        shots = [browser.screenshot(artifacts_dir() / "asset_graph.png")]
        shots.append(view_page_shows_its_preview_and_figures(browser, dagster_dev.port, warehouse_url))
        shots.append(fact_plot_has_a_point_per_partition(browser, dagster_dev.port, warehouse_url, days))
    assert all(shot.stat().st_size > 20_000 for shot in shots)
    print("screenshots:", *shots)
