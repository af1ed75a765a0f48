"""The container files a sysadmin runs: the Dockerfile, docker-compose.yml with its nginx override,
and the commands .env.example, the README and the runbooks tell them to type.
scripts/compose_smoke.sh runs them on a real Docker engine; these checks keep the facts it proved
from regressing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
import yaml

from app.cli import main
from app.config import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
COMPOSE = PROJECT_ROOT / "docker-compose.yml"
COMPOSE_NGINX = PROJECT_ROOT / "scripts" / "deploy" / "compose.nginx.yml"
IMAGE_SERVICES = ("app", "cron")
DOCUMENTS_WITH_COMMANDS = (
    PROJECT_ROOT / ".env.example",
    PROJECT_ROOT / "README.md",
    *sorted((PROJECT_ROOT / "docs").glob("*.md")),
)
COMMAND = re.compile(r"\bphotochanger ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")


class Reset:
    """A value tagged ``!reset`` in a compose override: it replaces, not merges."""

    def __init__(self, value: Any) -> None:
        self.value = value


class ComposeLoader(yaml.SafeLoader):
    pass


def construct_reset(loader: yaml.SafeLoader, node: yaml.Node) -> Reset:
    if isinstance(node, yaml.SequenceNode):
        return Reset(loader.construct_sequence(node))
    if isinstance(node, yaml.MappingNode):
        return Reset(loader.construct_mapping(node))
    return Reset(loader.construct_scalar(node))  # type: ignore[arg-type]


ComposeLoader.add_constructor("!reset", construct_reset)


def load_compose(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=ComposeLoader)  # noqa: S506
    return loaded


def dockerfile_instructions(keyword: str) -> list[str]:
    """The arguments of every ``keyword`` instruction, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    return [
        line.split(None, 1)[1]
        for line in joined.splitlines()
        if line.split(None, 1)[:1] == [keyword] and len(line.split(None, 1)) == 2
    ]


def test_every_photochanger_command_the_env_example_readme_and_runbooks_name_exists():
    named = {
        (document.name, match.group(0))
        for document in DOCUMENTS_WITH_COMMANDS
        for match in COMMAND.finditer(document.read_text(encoding="utf-8"))
    }
    assert named, "no photochanger command found at all"
    for document, text in sorted(named):
        words = text.split()[1:]
        command = main.commands.get(words[0])
        assert command is not None, f"{document} names `{text}`: no command {words[0]!r}"
        if isinstance(command, click.Group) and len(words) > 1:
            assert words[1] in command.commands, f"{document} names `{text}`: no {words[1]!r}"


def test_the_dockerfile_has_no_syntax_directive_that_would_pull_a_frontend_image():
    first_lines = DOCKERFILE.read_text(encoding="utf-8").splitlines()[:5]
    assert not [line for line in first_lines if re.match(r"#\s*syntax\s*=", line)]


def test_every_apt_get_install_in_the_dockerfile_leaves_no_package_cache_or_lists():
    installs = [run for run in dockerfile_instructions("RUN") if "apt-get install" in run]
    assert installs
    for run in installs:
        assert "apt-get clean" in run, run
        assert "rm -rf /var/lib/apt/lists/*" in run, run


def test_the_locally_built_image_is_built_never_pulled():
    services = load_compose(COMPOSE)["services"]
    for name in IMAGE_SERVICES:
        assert services[name]["pull_policy"] == "build", name
        assert services[name]["build"]["context"] == ".", name


def test_every_volume_the_image_declares_is_mounted_by_each_service_running_it():
    """An unmounted VOLUME becomes an anonymous volume that `docker compose down` leaves behind."""
    declared = {path for volume in dockerfile_instructions("VOLUME") for path in json.loads(volume)}
    services = load_compose(COMPOSE)["services"]
    assert declared
    for name in IMAGE_SERVICES:
        targets = {volume.split(":")[1] for volume in services[name]["volumes"]}
        assert declared <= targets, (name, declared - targets)


def test_behind_nginx_the_app_port_is_not_published():
    app = load_compose(COMPOSE_NGINX)["services"]["app"]
    assert load_compose(COMPOSE)["services"]["app"]["ports"]
    assert isinstance(app["ports"], Reset)
    assert app["ports"].value == []


def test_behind_nginx_the_app_trusts_forwarded_headers_from_the_nginx_network_only():
    override = load_compose(COMPOSE_NGINX)
    app = override["services"]["app"]
    nginx = override["services"]["nginx"]
    (subnet,) = [pool["subnet"] for pool in override["networks"]["proxy"]["ipam"]["config"]]

    assert app["environment"]["PROXY_HOPS"] == "1"
    assert app["environment"]["TRUSTED_PROXIES"] == subnet
    assert nginx["networks"] == ["proxy"]
    assert "proxy" in app["networks"]


def test_nginx_starts_only_with_the_override_that_sets_the_trust():
    assert "nginx" not in load_compose(COMPOSE)["services"]


def test_every_compose_up_in_the_readme_rebuilds_the_image():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    ups = [line for line in readme.splitlines() if re.match(r"\s*docker compose .*\bup\b", line)]
    assert ups
    for line in ups:
        assert "--build" in line, line
