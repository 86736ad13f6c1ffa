"""Fixtures of the telemetry and operations tests: a telemetry world on a directory lake or on S3."""

import pytest

from medrobotics_dagster_tests.defs.telemetry.telemetry_world import World, extract_procedures, seed_source


@pytest.fixture(params=["directory", "s3"])
def any_world(request, source_url, warehouse_url, tmp_path):
    if request.param == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        lake_url = f"s3://{bucket}"
    else:
        lake_url = str(tmp_path / "lake")
    seed_source(source_url)
    world = World(source_url, warehouse_url, lake_url)
    extract_procedures(world)
    return world


@pytest.fixture
def world(source_url, warehouse_url, tmp_path):
    seed_source(source_url)
    world = World(source_url, warehouse_url, str(tmp_path / "lake"))
    extract_procedures(world)
    return world
