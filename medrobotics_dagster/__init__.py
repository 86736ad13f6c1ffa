"""medrobotics_dagster: surgical-robot operational data and telemetry into a star-schema warehouse."""

import os

from medrobotics_dagster.acknowledged_warnings import acknowledge_dagster_previews

# Arrow's allocator: the system's. mimalloc, Arrow's default, keeps the pages each thread frees, and the telemetry
# load parses on several threads (peak RSS of the scale-10 parse: 452 MB with mimalloc, 329 MB with this). Set
# before pandas or pyarrow is imported; a value of the user's own wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

acknowledge_dagster_previews()
