"""The set-up files agree with each other, and the CI entry point runs what the README says."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = re.fullmatch(r"\s*(?:-\s+)?([A-Za-z0-9_.\-]+)(?:\[[a-z,]+\])?==([^\s#]+)\s*", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_environment_yml_pins_what_requirements_txt_pins():
    requirements = pins((ROOT / "requirements.txt").read_text().splitlines())
    environment = pins((ROOT / "environment.yml").read_text().splitlines())
    build_only = {"setuptools", "wheel"}
    assert {k: v for k, v in requirements.items() if k not in build_only} == environment
    assert requirements["torch"].startswith("2.13")
    assert requirements["pandas"].split(".")[0] == "2"
    assert requirements["pyspark"].split(".")[0] == "4"


def test_readme_names_the_two_commands_and_ci_runs_make_test():
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
