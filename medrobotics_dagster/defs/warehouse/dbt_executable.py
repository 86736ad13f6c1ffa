"""`medrobotics-dbt`: dbt's own command line, started without Python's collector walking what importing dbt allocates.

dagster-dbt starts a dbt process for every dbt step, and each imports dbt-core anew: 1.7 s here, of which the
collector took 0.4 s (see `long_lived_imports`). Arguments, output and exit code are dbt's.
"""

import shutil
import sys

EXECUTABLE = "medrobotics-dbt"


def dbt_executable() -> str:
    """This command when installed (`pip install -e .` makes it), else plain `dbt`."""
    return EXECUTABLE if shutil.which(EXECUTABLE) else "dbt"


def main() -> None:
    from medrobotics_dagster.long_lived_imports import long_lived_objects

    with long_lived_objects():
        from dbt.cli.main import cli

    sys.argv[0] = "dbt"
    sys.exit(cli())
