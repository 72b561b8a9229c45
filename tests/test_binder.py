"""The Binder image: its files agree with the developers' set-up, repo2docker plans what we
mean, and, in a fresh virtual environment built the way repo2docker builds the image,
postBuild completes, JupyterLab opens a chapter as a notebook and that notebook runs.

What only mybinder.org can show (the Docker build itself, the 2 GB limit, the launch URL)
is not tried here; the slow tests come as close as a machine without Docker allows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
#: In requirements.txt but not needed to run the chapters (they build or check the site).
DEVELOPER_ONLY = {"jupyter-book", "sphinx-book-theme", "pytest", "pytest-xdist", "execnet",
                  "ruff", "selenium", "sphinx-sitemap", "sphinx-tsegsearch",
                  "sphinxext-opengraph"}
#: Only in the Binder image: the interface.
BINDER_ONLY = {"jupyterlab", "jupyterlab-myst", "myst-nb"}
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: The repo2docker release whose build plan the slow test reads.
REPO2DOCKER = "jupyter-repo2docker==2026.4.0"
#: The chapter the fresh environment runs: it starts Spark (Java), reads the packaged data
#: and uses labkit throughout.
CHAPTER = "book/en/02-data-with-spark.md"


def pins(path: Path) -> dict[str, str]:
    """``name -> version`` of every requirement line; fails on a line that is not ``==``."""
    found = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("--"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[a-z,]+\])?==(\S+)", line)
        assert match, f"{path.relative_to(ROOT)}:{number}: not an exact pin: {line}"
        found[match.group(1).lower()] = match.group(2)
    return found


def test_binder_requirements_pin_what_requirements_txt_pins():
    root = pins(ROOT / "requirements.txt")
    binder = pins(BINDER / "requirements.txt")
    expected = {name: version for name, version in root.items() if name not in DEVELOPER_ONLY}
    expected["torch"] = root["torch"] + "+cpu"  # the same release, CPU build
    assert {k: v for k, v in binder.items() if k not in BINDER_ONLY - set(root)} == expected
    assert set(binder) - set(root) == BINDER_ONLY - set(root)
    assert f"--extra-index-url {CPU_INDEX}" in (BINDER / "requirements.txt").read_text()


def test_binder_folder_holds_the_pip_route_and_the_jupyterlab_setting():
    # An environment.yml in binder/ would make repo2docker ignore requirements.txt.
    assert sorted(p.name for p in BINDER.iterdir()) == [
        "apt.txt", "overrides.json", "postBuild", "requirements.txt", "runtime.txt"]
    python = (BINDER / "runtime.txt").read_text().strip()
    assert python == "python-3.11"
    assert 'requires-python = ">=3.11' in (ROOT / "pyproject.toml").read_text()
    apt = (BINDER / "apt.txt").read_text().split()
    assert {"openjdk-17-jre-headless", "build-essential", "cmake"} <= set(apt)
    assert os.access(BINDER / "postBuild", os.X_OK)
    post_build = (BINDER / "postBuild").read_text()
    assert "LABKIT_BUILD_JOBS=${LABKIT_BUILD_JOBS:-2}" in post_build
    assert "$(nproc)" not in post_build
    assert "/work/" not in post_build and ".venv" not in post_build  # nothing of this machine
    viewers = json.loads((BINDER / "overrides.json").read_text())[
        "@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers == {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}


def run(command: list[str], env: dict[str, str] | None = None, timeout: float = 1800,
        cwd: Path = ROOT) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, (f"{' '.join(command)} exited {result.returncode}:\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


@pytest.mark.slow
def test_repo2docker_plans_the_pip_route(tmp_path):
    """repo2docker prints the Dockerfile it would build (``--no-build --debug``), no Docker
    needed: Java 17 and the compilers from apt.txt, binder/requirements.txt installed into
    the notebook environment, then binder/postBuild."""
    venv = tmp_path / "r2d"
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "pip"), "install", "-q", REPO2DOCKER], timeout=600)
    plan = run([str(venv / "bin" / "repo2docker"), "--no-build", "--no-run", "--debug",
                str(ROOT)], timeout=300)
    text = plan.stdout + plan.stderr
    assert "python=3.11" in text
    apt_line = next(line for line in text.splitlines() if "apt-get install" in line
                    and "openjdk" in line)
    assert all(name in apt_line for name in ("openjdk-17-jre-headless", "build-essential",
                                             "cmake"))
    install = text.index('pip install --no-cache-dir -r "binder/requirements.txt"')
    assert text.index("./binder/postBuild") > install


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory) -> dict[str, str]:
    """A fresh venv built as repo2docker builds the image: binder/requirements.txt, then
    binder/postBuild with NB_PYTHON_PREFIX pointing at it. Returns the environment to run
    its programs with. The Horovod wheel comes from the developers' cache
    (scripts/build-horovod.sh), so only a first run anywhere compiles it."""
    folder = tmp_path_factory.mktemp("binder")
    prefix = folder / "notebook"
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    cache = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "labkit" / "wheels"
    env.setdefault("LABKIT_WHEEL_CACHE", str(cache))
    env.update(NB_PYTHON_PREFIX=str(prefix), PATH=f"{prefix / 'bin'}:{env['PATH']}")
    requirements = BINDER / "requirements.txt"
    if not reachable(CPU_INDEX):
        # Without the index pip would ask it, in vain and with retries, about every package
        # (20 minutes more here); torch's CPU wheel must then come from a local wheelhouse.
        print(f"binder env: {CPU_INDEX} is unreachable, installing without it")
        requirements = folder / "requirements.txt"
        requirements.write_text("".join(
            line for line in (BINDER / "requirements.txt").read_text().splitlines(True)
            if not line.startswith("--extra-index-url")))
    started = time.perf_counter()
    run([sys.executable, "-m", "venv", str(prefix)])
    run([str(prefix / "bin" / "pip"), "install", "-q", "-r", str(requirements)], env=env)
    installed = time.perf_counter()
    result = run([str(BINDER / "postBuild")], env=env)
    print(f"binder env: requirements {installed - started:.0f} s, "
          f"postBuild {time.perf_counter() - installed:.0f} s")
    assert "postBuild: ok" in result.stdout
    return env


def reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def jupyterlab(binder_env):
    """JupyterLab of the fresh environment, serving the repository as Binder does."""
    port, token = free_port(), "labkit-binder-test"
    command = [str(Path(binder_env["NB_PYTHON_PREFIX"]) / "bin" / "jupyter"), "lab",
               "--no-browser", f"--port={port}", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={ROOT}"]
    if os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    server = subprocess.Popen(command, env=binder_env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                get_json(f"{base}/api/status", token)
                break
            except OSError:
                assert server.poll() is None, f"jupyter lab exited: {server.stderr.read()}"
                assert time.monotonic() < deadline, "jupyter lab did not answer in 120 s"
                time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_jupyterlab_opens_a_myst_chapter_as_a_notebook(jupyterlab):
    base, token = jupyterlab
    plugin = get_json(f"{base}/lab/api/settings/@jupyterlab/docmanager-extension:plugin",
                      token)
    viewers = plugin["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers["markdown"] == "Jupytext Notebook"
    model = get_json(f"{base}/api/contents/{CHAPTER}?type=notebook&content=1", token)
    assert model["type"] == "notebook"
    cells = model["content"]["cells"]
    assert any(cell["cell_type"] == "code" for cell in cells)


@pytest.mark.slow
def test_a_chapter_opened_through_jupytext_runs_in_a_fresh_kernel(jupyterlab, binder_env,
                                                                 tmp_path):
    """The notebook JupyterLab gets for the chapter (jupytext's contents manager) runs top
    to bottom in the fresh environment's own kernel, in the chapter's folder."""
    base, token = jupyterlab
    model = get_json(f"{base}/api/contents/{CHAPTER}?type=notebook&content=1", token)
    notebook = tmp_path / "chapter.ipynb"
    notebook.write_text(json.dumps(model["content"]))
    script = (
        "import sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "NotebookClient(nb, timeout=600, kernel_name='python3',\n"
        "               resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
        "import labkit, torch\n"
        "print('ran', len(nb.cells), 'cells with', labkit.__file__, torch.__version__)\n")
    python = str(Path(binder_env["NB_PYTHON_PREFIX"]) / "bin" / "python")
    result = run([python, "-c", script, str(notebook), str((ROOT / CHAPTER).parent)],
                 env=binder_env, timeout=900)
    assert "+cpu" in result.stdout
    assert str(ROOT / "labkit") in result.stdout  # postBuild's editable install



def test_spark_driver_memory_follows_the_setting_into_the_jvm():
    """A Binder session has 2 GB for everything: the driver's heap is a setting away, and
    the JVM labkit starts really gets that heap."""
    script = ("from labkit.spark import get_spark\n"
              "spark = get_spark('memory-check')\n"
              "print(spark._jvm.java.lang.Runtime.getRuntime().maxMemory() // 2**20)\n"
              "spark.stop()\n")
    env = {**os.environ, "LABKIT_SPARK_DRIVER_MEMORY": "600m"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    heap_mib = int(result.stdout.split()[-1])
    assert 500 < heap_mib <= 600  # the JVM reports the heap less a survivor space


def test_driver_memory_is_a_quarter_of_the_machine_within_bounds(monkeypatch):
    from labkit import machine, spark

    monkeypatch.delenv(spark.DRIVER_MEMORY_SETTING, raising=False)
    total = machine.memory_bytes()
    assert total is not None and total > 0
    mib = int(spark.driver_memory().removesuffix("m"))
    assert spark.DRIVER_MEMORY_MIN_MIB <= mib <= spark.DRIVER_MEMORY_MAX_MIB
    assert mib == min(max(total // 4 // 2**20, 512), 1024)
    monkeypatch.setenv(spark.DRIVER_MEMORY_SETTING, "2g")
    assert spark.driver_memory() == "2g"


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["horovod", "torch"])
def test_two_ranks_train_on_one_cpu(engine):
    """Binder gives a session one CPU: chapter 9's two ranks still run (Spark's local[2] is
    two task threads whatever the cores), with the driver heap Binder's 2 GB leaves."""
    taskset = shutil.which("taskset")
    if taskset is None:
        pytest.skip("taskset (util-linux) is missing, so the run cannot be pinned to one CPU")
    script = ("import os\n"
              "from labkit.distributed import train_distributed\n"
              "from labkit.pipeline import prepare\n"
              "from labkit.spark import get_spark\n"
              "spark = get_spark('one-cpu')\n"
              f"run = train_distributed(prepare(mode='honest').data, np=2, engine={engine!r},\n"
              "                        epochs=5)\n"
              "print(len(os.sched_getaffinity(0)), run.np, run.evaluation.accuracy)\n"
              "spark.stop()\n")
    env = {**os.environ, "LABKIT_SPARK_DRIVER_MEMORY": "512m"}
    result = subprocess.run([taskset, "-c", "0", sys.executable, "-c", script], env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    cpus, ranks, accuracy = result.stdout.split()[-3:]
    assert (cpus, ranks) == ("1", "2")
    assert 0.0 <= float(accuracy) <= 1.0


def test_a_run_too_big_for_binder_stops_in_one_line_before_any_rank_starts():
    """Chapter 9's np=2 runs need about 2.3 GiB (Horovod) and 2.6 GiB (TorchDistributor),
    measured; a Binder session has 2 GB. labkit says so, and what would fit."""
    from labkit.launch import DistributedError, memory_needed_mib, require_memory

    binder = 2 * 2**30
    for engine in ("horovod", "torch"):
        with pytest.raises(DistributedError) as caught:
            require_memory(2, engine, available=binder)
        message = str(caught.value)
        assert "\n" not in message
        assert message.startswith(f"np=2 with {engine} needs about "
                                  f"{memory_needed_mib(2, engine)} MiB of memory, but this "
                                  "machine allows 2048 MiB")
        require_memory(2, engine, available=4 * 2**30)
    # TorchDistributor's ranks on the driver fit (measured 1.5 GiB from a script); Horovod's
    # local ranks are bigger (1.76 GiB from a script, more from a notebook).
    assert message.endswith("np=-2 runs the same 2 ranks as processes on the driver, "
                            "without Spark tasks, in about 1800 MiB")
    require_memory(-2, "torch", available=binder)
    with pytest.raises(DistributedError, match=r"allows 2048 MiB$"):
        require_memory(-2, "horovod", available=binder)
