"""Submit Ray Jobs and wait for them (run by the cluster tests, inside the cluster's network).

Reads ``{"url", "working_dir", "jobs": [{"entrypoint", "name"}], "timeout_s"}`` as JSON on stdin;
prints one JSON line: per job its final status and the tail of its logs.
"""

from __future__ import annotations

import json
import sys
import time

from ray.job_submission import JobStatus, JobSubmissionClient

# Only the code and the job scripts travel; results, docs, tests and virtualenvs stay here.
EXCLUDES = [".git", ".venv", "out", "results", "docs", "tests", "bench", "**/__pycache__", "*.parquet", "*.png"]


def main() -> None:
    """One job at a time: concurrent jobs sharing one working_dir package lost their cwd when
    the first of them ended (Ray 2.60, seen here), which is not what these tests are about."""
    spec = json.load(sys.stdin)
    client = JobSubmissionClient(spec["url"])
    final = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED}
    deadline = time.monotonic() + spec["timeout_s"]
    out = {}
    for job in spec["jobs"]:
        jid = client.submit_job(
            entrypoint=job["entrypoint"],
            runtime_env={"working_dir": spec["working_dir"], "excludes": EXCLUDES},
        )
        status = client.get_job_status(jid)
        while status not in final and time.monotonic() < deadline:
            time.sleep(2)
            status = client.get_job_status(jid)
        if status not in final:
            client.stop_job(jid)
        out[job["name"]] = {"status": str(status), "logs": client.get_job_logs(jid)[-6000:]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
