"""Fuzz the booth upload on demand: ``python scripts/fuzz_ingest.py [--cases 10000]``.

Starts gunicorn as ``photochanger serve`` does, on an embedded PostgreSQL in a temporary folder
(or on ``DATABASE_URL``, which must be a scratch database: slot-001 and the ingest password are
overwritten), sends hypothesis-built raw requests (tests/support/multipart_fuzz.py) and checks
each answer (no 500, no dropped answer) and what is left (no pending job, no stray file). Prints
the number of cases, the answers by status and every failure; exits 1 if there was one.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import requests  # noqa: E402
from bench_ingest_setup import App, serve  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.auth.passwords import hash_password  # noqa: E402
from app.config import Config  # noqa: E402
from app.db import make_engine, upgrade_database  # noqa: E402
from app.settings.service import save_settings  # noqa: E402
from tests.support.ingest import INGEST_PASSWORD  # noqa: E402
from tests.support.multipart_fuzz import (  # noqa: E402
    SLOT_ID,
    FuzzCase,
    describe,
    fuzz_cases,
    leftovers,
    problems_with,
    send,
)
from tests.support.stored import use_provider  # noqa: E402

FULL_CHECK_EVERY = 500
SHOWN_FAILURES = 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fuzz-ingest-") as workdir:
        external = os.environ.get("DATABASE_URL")
        if external:
            return fuzz(Path(workdir), external, args.cases, args.seed)
        import pgserver

        server = pgserver.get_server(Path(workdir) / "pgdata", cleanup_mode="delete")
        try:
            server.psql("CREATE DATABASE fuzz;")
            return fuzz(Path(workdir), server.get_uri("fuzz"), args.cases, args.seed)
        finally:
            server.cleanup()


def prepare(database_url: str, media_root: Path) -> None:
    upgrade_database(database_url)
    config = Config(database_url=database_url, media_root=media_root, _env_file=None)
    engine = make_engine(database_url, pool_size=1)
    with Session(engine) as session:
        use_provider(session, "local", {"style": "sepia"}, slot_id=SLOT_ID)
        save_settings(
            session, config, {"ingest_password_hash": hash_password(INGEST_PASSWORD)}, "fuzz"
        )
    engine.dispose()


def fuzz(workdir: Path, database_url: str, cases: int, seed_value: int | None) -> int:
    media_root = workdir / "media"
    prepare(database_url, media_root)
    statuses: Counter[str] = Counter()
    failures: list[str] = []
    engine = make_engine(database_url, pool_size=1)
    started = time.monotonic()
    with serve(workdir, database_url) as app, Session(engine) as session:

        @settings(
            max_examples=cases,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(fuzz_cases())
        def one(case: FuzzCase) -> None:
            try:
                answer = send(app.url, case)
            except OSError as error:
                failures.append(f"{describe(case)}\n  the request failed: {error!r}")
                return
            statuses[str(answer.status)] += 1
            found = problems_with(case, answer)
            found += leftovers(session, media_root, check_results=False)
            if sum(statuses.values()) % FULL_CHECK_EVERY == 0:
                found += leftovers(session, media_root)
            if found:
                failures.append(f"{describe(case)}\n  {'; '.join(found)}: {answer.body[:120]!r}")

        if seed_value is not None:
            one = seed(seed_value)(one)
        one()
        failures += [f"at the end: {problem}" for problem in leftovers(session, media_root)]
        if requests.get(f"{app.url}/healthz", timeout=10).status_code != 200:
            failures.append("at the end: /healthz is not 200")
        report(app, sum(statuses.values()), statuses, failures, time.monotonic() - started)
    engine.dispose()
    return 1 if failures else 0


def report(
    app: App, total: int, statuses: Counter[str], failures: list[str], seconds: float
) -> None:
    print(f"{total} cases in {seconds:.0f} s; answers by status: {dict(sorted(statuses.items()))}")
    crashes = Counter(
        crash_site(event["exception"]) for event in app.log_events() if "exception" in event
    )
    print(f"{len(failures)} failures, {sum(crashes.values())} server tracebacks")
    for failure in failures[:SHOWN_FAILURES]:
        print(failure)
    for site, count in crashes.most_common():
        print(f"{count} x traceback ending {site}")


def crash_site(traceback: str) -> str:
    """The last line of our code in a traceback and the exception it raised."""
    lines = traceback.strip().splitlines()
    ours = [line.strip() for line in lines if line.strip().startswith(f'File "{PROJECT_ROOT}/app')]
    return f"{ours[-1] if ours else '(no app frame)'}: {lines[-1][:300]}"


if __name__ == "__main__":
    sys.exit(main())
