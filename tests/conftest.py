"""Fixtures for every test, as plugins: a real PostgreSQL cloned per test, the app served over
real HTTP or called in-process, logged-in admins, a browser and fake provider servers."""

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.servers",
    "tests.fixtures.accounts",
    "tests.fixtures.browser",
    "tests.fixtures.fakes",
]
