"""``--dist loadgroup`` that works with pytest 9: tests of one ``xdist_group`` run in one worker.

pytest-xdist 3.8.0 marks a test's group by appending ``@group`` to ``item._nodeid``, which
pytest 9 no longer reads (a node's id is ``item._id`` now), so every test became its own unit
and the groups were silently ignored. Here the workers write each test's group, as they
collect, into a plan the controller's scheduler reads (through xdist's own hooks, with no
private attribute of pytest): :class:`GroupScheduling` is xdist's scope scheduling with the
plan's groups as scopes, and a test without a group is a unit of its own. With
``--no-loadscope-reorder`` (as `make test` runs) units are handed out in collection order, so
the workers' collection order is the order in which work is taken.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

#: Key of ``workerinput``: the folder where each worker writes its plan.
PLAN_KEY = "labkit_group_plan"
_PLAN_FOLDER = pytest.StashKey[Path]()


def plan_folder(config: pytest.Config) -> Path:
    """The controller's folder for the workers' plans, made once per run, removed at its end."""
    if _PLAN_FOLDER not in config.stash:
        folder = Path(tempfile.mkdtemp(prefix="xdist-groups-"))
        config.stash[_PLAN_FOLDER] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    return config.stash[_PLAN_FOLDER]


def group_of(item: pytest.Item) -> str | None:
    names = sorted(str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                   for mark in item.iter_markers("xdist_group"))
    return "_".join(names) or None


@pytest.hookimpl(tryfirst=True)  # before xdist's worker sends its collection
def pytest_collection_finish(session: pytest.Session) -> None:
    """In an xdist worker, once the tests are collected and ordered: write ``nodeid ->
    group`` for the controller (whole or not at all), before the worker reports its
    collection."""
    config = session.config
    if PLAN_KEY not in getattr(config, "workerinput", {}):
        return
    folder = Path(config.workerinput[PLAN_KEY])
    plan = {item.nodeid: group_of(item) for item in session.items}
    partial = folder / f".{config.workerinput['workerid']}.json"
    partial.write_text(json.dumps(plan))
    os.replace(partial, folder / f"{config.workerinput['workerid']}.json")


class GroupScheduling(LoadScopeScheduling):
    """xdist's scope scheduling, a scope being a test's group (or the test alone)."""

    def __init__(self, config: pytest.Config, log=None) -> None:
        super().__init__(config, log)
        self._groups: dict[str, str | None] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self._groups is None:
            # Every worker collected the same tests (xdist checks) before scheduling starts.
            plans = sorted(plan_folder(self.config).glob("gw*.json"))
            if not plans:
                raise RuntimeError(f"no worker wrote its group plan in {plan_folder(self.config)}")
            self._groups = json.loads(plans[0].read_text())
        group = self._groups.get(nodeid)
        return f"@{group}" if group else nodeid


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """On the xdist controller: tell each worker where to write its group plan."""
    node.workerinput[PLAN_KEY] = str(plan_folder(node.config))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadgroup``: :class:`GroupScheduling`, which honours the groups."""
    if config.getvalue("dist") == "loadgroup":
        return GroupScheduling(config, log)
    return None
