# @title Set up this notebook on Colab
# Colab has Python and PyTorch, but neither Java (which Spark needs) nor labkit. This cell,
# only in the Colab notebooks, installs them: Java 17 with apt where none is found, labkit
# from the commit these notebooks were made from, and the packages labkit needs that Colab
# lacks, at the course's pins (Colab's own are kept where labkit works with them: replacing
# a package in a running session would need a restart). Horovod is not built here.
# (scripts/export_notebooks.py writes this cell from scripts/colab_setup.py.)
import glob
import importlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys

from packaging.specifiers import SpecifierSet

LABKIT = "labkit"  # export_notebooks.py: labkit's pip requirement, e.g. a git URL and commit
#: distribution: (the versions labkit works with, the course's pin to install otherwise)
PACKAGES: dict[str, tuple[str, str]] = {}  # export_notebooks.py: from pyproject, requirements
JAVA_PACKAGE, JAVA_HOMES, JAVA_MAJOR = "openjdk-17-jre-headless", "/usr/lib/jvm/java-17-*", 17


def run(command: list[str], **options) -> str:
    """Run a command; on failure raise with the command and the end of its output."""
    result = subprocess.run(command, capture_output=True, text=True, **options)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise RuntimeError(f"{' '.join(command)} failed: " + " | ".join(tail))
    return result.stdout + result.stderr


def java_major(java: str) -> int:
    """The major version of a ``java`` program; 0 where it does not run."""
    try:
        text = run([java, "-version"], timeout=120)
    except (OSError, RuntimeError):
        return 0
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        return 0
    return int(match[2] or 0) if match[1] == "1" else int(match[1])  # "1.8" is Java 8


def visible_java() -> str | None:
    """JAVA_HOME, or the ``java`` on PATH, where it is Java 17 or newer: what Spark runs."""
    home = os.environ.get("JAVA_HOME")
    if home and java_major(os.path.join(home, "bin", "java")) >= JAVA_MAJOR:
        return home
    java = shutil.which("java")
    if java and java_major(java) >= JAVA_MAJOR:
        return os.path.dirname(os.path.dirname(os.path.realpath(java)))
    return None


def set_up_java() -> str:
    """Java for Spark: the one Spark would find, or Java 17 installed with apt (as root)."""
    home = visible_java()
    if home:
        return f"Java: {home}"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", JAVA_PACKAGE]
    try:
        run(install, env=env)
    except RuntimeError:  # no package lists yet
        run(["apt-get", "update", "-qq"], env=env)
        run(install, env=env)
    homes = sorted(h for h in glob.glob(JAVA_HOMES)
                   if java_major(os.path.join(h, "bin", "java")) >= JAVA_MAJOR)
    if not homes:
        raise RuntimeError(f"apt-get installed {JAVA_PACKAGE}, but no {JAVA_HOMES} runs")
    os.environ["JAVA_HOME"] = homes[0]
    os.environ["PATH"] = os.path.join(homes[0], "bin") + os.pathsep + os.environ["PATH"]
    return f"Java: {homes[0]} ({JAVA_PACKAGE}, installed with apt-get)"


def packages_to_install() -> tuple[list[str], dict[str, str]]:
    """(pins to install, {distribution: version} they replace): labkit's dependencies that
    are missing, or installed in a version labkit does not work with."""
    pins, replaced = [], {}
    for name, (supported, pin) in PACKAGES.items():
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pins.append(pin)
            continue
        if not SpecifierSet(supported).contains(have, prereleases=True):
            pins.append(pin)
            replaced[name] = have
    return pins, replaced


def imported(distributions: dict[str, str]) -> list[str]:
    """Those of ``distributions`` whose modules this session has already imported."""
    owners = importlib.metadata.packages_distributions()  # module: [distributions]
    return sorted({name for module, names in owners.items() if module in sys.modules
                   for name in names if name in distributions})


def set_up() -> None:
    lines = [set_up_java()]
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run(pip + ["--no-deps", LABKIT])
    pins, replaced = packages_to_install()
    if pins:
        run(pip + pins)
    importlib.invalidate_caches()
    lines.append(f"labkit {importlib.metadata.version('labkit')} from {LABKIT}")
    lines.append("installed: " + ", ".join(pins) if pins else
                 "Colab has the other packages labkit needs")
    stale = imported(replaced)
    if stale:
        lines.append(f"replaced {', '.join(f'{n} {replaced[n]}' for n in stale)}, which this "
                     "session had imported: restart it (Runtime > Restart session) and run "
                     "this cell again")
    lines.append("Horovod is not built on Colab: chapter 11's Horovod runs need Binder, "
                 "Databricks or a local set-up")
    print("\n".join(lines))


set_up()
