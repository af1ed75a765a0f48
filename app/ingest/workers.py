"""Which server process runs a job, so the gunicorn master can end the jobs of a worker that died.

A worker killed mid-job (SIGKILL, the kernel's out-of-memory killer, gunicorn's own timeout) never
writes its jobs' outcome. The master learns of the death at once (its ``child_exit`` hook) and
marks that worker's pending jobs ``interrupted``, which frees their places in the slot and provider
limits right away. When the whole server dies, its jobs are presumed running until
``FINISH_GRACE`` past their deadline instead, and the cleanup ends them.
"""

from __future__ import annotations

import os
import secrets
import socket

from app.db import make_engine, utcnow
from app.ingest.models import Job, interrupt_jobs

SERVER_ID_ENV = "PHOTOCHANGER_SERVER_ID"
"""A random name the gunicorn master gives itself at start; its workers inherit it. Host names
and process ids alone repeat: containers on host networking share the host's name, and each
container numbers its processes from 1."""
WORKER_DIED_MESSAGE = (
    "The server process handling this job stopped before it finished (killed or crashed); "
    "its outcome is lost."
)


def name_this_server() -> None:
    os.environ[SERVER_ID_ENV] = secrets.token_hex(6)


def worker_id(pid: int | None = None) -> str:
    """This server's process ``pid`` (the current one by default), as stored on its jobs."""
    server = os.environ.get(SERVER_ID_ENV, "")
    return f"{socket.gethostname()[:48]}:{server}:{os.getpid() if pid is None else pid}"


def interrupt_jobs_of_worker(database_url: str, pid: int) -> int:
    """End the pending jobs of this server's exited worker ``pid``; returns how many there were."""
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.begin() as connection:
            statement = interrupt_jobs(Job.worker == worker_id(pid), WORKER_DIED_MESSAGE, utcnow())
            return connection.execute(statement).rowcount
    finally:
        engine.dispose()
