"""Benchmark of one raw-telemetry sensor tick over S3 (moto's server over HTTP): wall seconds, medians of several ticks.

    python -m medrobotics_dagster_tests.benchmarks.sensor_benchmark [--files 6000] [--ticks 5]

Fills a bucket with `--files` telemetry files, takes the first tick (it builds the cursor), then times ticks
with nothing new and ticks with one new file each, in the same process (one listing per tick).
"""

import argparse
import logging
import os
import socket
import statistics
import time
import uuid

import boto3
import dagster as dg
from moto.server import ThreadedMotoServer

from medrobotics_dagster.defs.telemetry.sensor import raw_telemetry_sensor
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.synthetic.lake_io import write_objects


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=6000)
    parser.add_argument("--ticks", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(
        AWS_ENDPOINT_URL_S3=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="x",
        AWS_DEFAULT_REGION="us-east-1",
    )
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    lake = Lake(url=f"s3://{bucket}/lake")
    body = b'{"procedure_id": "x"}\n'
    objects = (
        (f"raw/telemetry/procedure-PROC-{i:06d}/2024{1 + i % 12:02d}{1 + i % 28:02d}.json", body)
        for i in range(args.files)
    )
    write_objects(lake, objects)
    instance = dg.DagsterInstance.ephemeral()

    def tick(cursor):
        started = time.perf_counter()
        result = raw_telemetry_sensor(
            dg.build_sensor_context(instance=instance, cursor=cursor, resources={"lake": lake})
        )
        return time.perf_counter() - started, result

    _, first = tick(None)
    cursor = first.cursor
    quiet, one_new = [], []
    for i in range(args.ticks):
        seconds, result = tick(cursor)
        assert not result.run_requests
        quiet.append(seconds)
        lake.put(f"raw/telemetry/procedure-PROC-9{i:05d}/20240601.json", body)
        seconds, result = tick(result.cursor)
        assert len(result.run_requests) == 1
        one_new.append(seconds)
        cursor = result.cursor
    server.stop()
    print(
        f"sensor_tick files={args.files} nothing_new_median_s={statistics.median(quiet):.3f} "
        f"one_new_median_s={statistics.median(one_new):.3f} ticks={args.ticks}"
    )


if __name__ == "__main__":
    main()
