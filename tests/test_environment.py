"""The conda environment and the pip requirements pin the same packages at the same versions."""

from __future__ import annotations

from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def pinned(lines, python_version):
    """{normalised name: version} for the requirement lines that apply on ``python_version``."""
    pins = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith(("#", "-r")):
            continue
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"python_version": python_version}):
            continue
        (spec,) = req.specifier  # exactly one specifier ...
        assert spec.operator == "==", f"{line!r} is not an exact pin"  # ... and it is exact
        pins[req.name.lower().replace("_", "-")] = spec.version
    return pins


def conda_environment():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return python.split("=", 1)[1], pip_section


def test_environment_yml_matches_requirements_txt():
    python_version, pip_lines = conda_environment()
    requirements = pinned((ROOT / "requirements.txt").read_text().splitlines(), python_version)
    conda = pinned(pip_lines, python_version)
    assert conda == requirements


def test_torch_is_pinned_to_the_cpu_wheel_version_everywhere():
    for python_version in ("3.10", "3.11", "3.12"):
        assert pinned((ROOT / "requirements.txt").read_text().splitlines(), python_version)["torch"] == "2.13.0"


def test_lab_extra_builds_on_the_core_pins_and_adds_no_jupyter_metapackage():
    lines = (ROOT / "requirements-lab.txt").read_text().splitlines()
    assert "-r requirements.txt" in lines
    core = pinned((ROOT / "requirements.txt").read_text().splitlines(), "3.11")
    lab = pinned(lines, "3.11")
    assert "jupyterlab" in lab and not core.keys() & lab.keys()
    assert "jupyter" not in core and "jupyterlab" not in core


def test_every_requirement_is_pinned_for_python_3_10_too():
    pins = pinned((ROOT / "requirements.txt").read_text().splitlines(), "3.10")
    assert {"torch", "numpy", "nbval", "mkdocs", "hypothesis"} <= pins.keys()
