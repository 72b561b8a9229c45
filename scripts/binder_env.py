"""The Binder environment on a branch of its own, apart from the course's content.

mybinder.org builds one image per commit of the branch a launch link names, and rebuilds all
of it (Horovod's 16-minute compile included) whenever that commit changes. So the launch links
(site/launch.py) name the ``binder-env`` branch, which holds only the files repo2docker reads
(``ENV_FILES``: binder/ and the Horovod build script that postBuild runs), and pull the
chapters and labkit into the session from the course's own branch with nbgitpuller.

``--publish REMOTE`` commits those files to REMOTE's ``binder-env`` branch when, and only
when, they differ from what the branch holds (GitHub Actions runs it after each push to the
default branch: .github/workflows/binder-env.yml). A commit that changes chapters or labkit
leaves the branch, hence the image, as it is.

Usage: python scripts/binder_env.py OUT               (write the environment's files into OUT)
       python scripts/binder_env.py --publish REMOTE  (commit and push them if they changed)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "site"))
from launch import ENV_BRANCH  # noqa: E402  (site/launch.py: the launch links name it)

#: Everything the image is built from, as paths in this repository and on the branch alike.
#: Not binder/requirements.in: `make lock` turns it into binder/requirements.txt, which is here.
ENV_FILES = (
    "binder/apt.txt",
    "binder/runtime.txt",
    "binder/requirements.txt",
    "binder/postBuild",
    "binder/overrides.json",
    "scripts/build-horovod.sh",
)
README = """\
# The course's Binder environment (generated: do not edit)

The files repo2docker builds the launch image from, copied from `binder/` and
`scripts/build-horovod.sh` of the default branch by `scripts/binder_env.py`, and committed here
only when they change. The course's chapters and labkit are not here: the launch links on
each chapter pull them into the session (nbgitpuller).
"""


class EnvError(Exception):
    """What stops the command, in one line."""


def write_env(out: Path, root: Path = ROOT) -> list[str]:
    """Copy the environment's files from ``root`` into the empty or new folder ``out``;
    returns their paths. Only the executable bit of each file's mode is kept (git keeps no
    more), so two copies of the same inputs are identical byte for byte and mode for mode."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise EnvError(f"{out}: exists and is not an empty folder")
    missing = [name for name in ENV_FILES if not (root / name).is_file()]
    if missing:
        raise EnvError(f"{root / missing[0]}: missing (the Binder environment needs it)")
    out.mkdir(parents=True, exist_ok=True)
    for name in ENV_FILES:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / name, target)
        target.chmod(0o755 if os.access(root / name, os.X_OK) else 0o644)
    (out / "README.md").write_text(README)
    return [*ENV_FILES, "README.md"]


def git(folder: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True)
    if result.returncode != 0:
        raise EnvError(f"git {args[0]}: {result.stderr.strip().splitlines()[-1]}")
    return result.stdout.strip()


def publish(remote: str, branch: str = ENV_BRANCH, root: Path = ROOT) -> str | None:
    """Commit the environment's files on top of ``remote``'s ``branch`` and push, unless the
    branch already holds exactly these files. Returns the new commit, or None."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder) / "env"
        write_env(work, root)
        git(work, "init", "-q")
        git(work, "add", "-A")
        tree = git(work, "write-tree")
        parents = []
        if git(work, "ls-remote", "--heads", remote, branch):
            git(work, "fetch", "-q", "--depth", "1", remote, branch)
            if git(work, "rev-parse", "FETCH_HEAD^{tree}") == tree:
                print(f"{branch}: unchanged (tree {tree[:12]}), nothing pushed")
                return None
            parents = ["-p", git(work, "rev-parse", "FETCH_HEAD")]
        source = os.environ.get("GITHUB_SHA") or git(root, "rev-parse", "HEAD")
        commit = git(work, "-c", "user.name=github-actions[bot]",
                     "-c", "user.email=41898282+github-actions[bot]@users.noreply.github.com",
                     "commit-tree", tree, *parents, "-m",
                     f"Binder environment from {source}")
        git(work, "push", "-q", remote, f"{commit}:refs/heads/{branch}")
        print(f"{branch}: pushed {commit[:12]} (tree {tree[:12]})")
        return commit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("out", nargs="?", type=Path, help="write the files into this folder")
    group.add_argument("--publish", metavar="REMOTE", help="commit and push them if changed")
    options = parser.parse_args(argv)
    try:
        if options.publish:
            publish(options.publish)
        else:
            for name in write_env(options.out):
                print(name)
    except EnvError as error:
        print(f"binder_env: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
