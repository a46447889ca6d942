"""Ray Job entrypoint for ``robot-ray compare``: several methods x datasets x seeds (options: `robot-ray compare --help`).

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- python jobs/compare.py ...

Takes exactly the CLI's options; ``--out`` (and input locations) may be ``s3://``, ``gs://`` or
``file://`` URIs, see ``jobs/_common.py`` and docs/cluster.md.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import run  # noqa: E402

if __name__ == "__main__":
    sys.exit(run("compare"))
