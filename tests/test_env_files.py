"""pyproject.toml, environment.yml and constraints.txt must pin the same versions."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    pins = {}
    for req in reqs:
        name, sep, version = req.partition("==")
        assert sep, f"pyproject requirement {req!r} is not pinned with =="
        pins[_norm(name)] = version
    return pins


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip().lower())


def _environment_yml_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.match(r"^\s+-\s+([A-Za-z0-9_.\-]+)==(\S+)\s*$", line)
        if match:
            pins[_norm(match.group(1))] = match.group(2)
    return pins


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_norm(name)] = version.strip()
    return pins


def test_environment_yml_mirrors_pyproject():
    assert _environment_yml_pins() == _pyproject_pins()


def test_environment_yml_installs_the_package_and_python():
    text = (ROOT / "environment.yml").read_text()
    assert "      - -e ." in text
    assert re.search(r"^\s+- python=3\.1\d\s*$", text, re.M)


def test_constraints_agree_with_pyproject():
    constraints = _constraints()
    for name, version in _pyproject_pins().items():
        assert constraints.get(name) == version, f"{name}: pyproject {version}, " \
                                                 f"constraints {constraints.get(name)}"


def test_torch_is_pinned_to_the_cpu_file_version():
    # an unpinned torch pulls a multi-GB CUDA build on this kind of machine
    assert _pyproject_pins()["torch"] == "2.13.0"
    assert _constraints()["torch"] == "2.13.0"
    assert "torchvision" not in _constraints()
