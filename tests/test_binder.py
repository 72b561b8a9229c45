"""The Binder image, apart from the course's content.

The image is built from the ``binder-env`` branch (scripts/binder_env.py), which holds only
the files repo2docker reads; each chapter's launch link (site/launch.py) starts that image and
has nbgitpuller pull the course's current content, labkit included, into the session. Here:
the locks agree with the developers', a content-only change leaves the environment's files
byte-identical (so the branch and its image stay as they are), the branch is pushed when and
only when they change, every chapter of both editions has a link that opens it, and, in a
fresh virtual environment built the way repo2docker builds the image, postBuild completes,
nbgitpuller pulls the content from a git repository, JupyterLab opens the chapter as a
notebook and that notebook runs with the pulled labkit.

What only mybinder.org can show (the Docker build itself, the 2 GB limit, its cache of
images) is not tried here; the slow tests come as close as a machine without Docker allows.
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
import tomllib
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "site"))
import launch  # noqa: E402
from binder_env import ENV_FILES  # noqa: E402
from lock import package_sources  # noqa: E402
from wheel_cache import cache_root, pyspark_wheels  # noqa: E402

#: In requirements.txt but not in the image (they build or check the site).
DEVELOPER_ONLY = {"jupyter-book", "sphinx-book-theme", "pytest", "pytest-xdist", "execnet",
                  "ruff", "selenium", "pypdf", "sphinx-reredirects", "sphinx-sitemap",
                  "sphinx-tsegsearch", "sphinxext-opengraph", "uv"}
#: Only in the Binder image's top level: the interface and the content pull.
BINDER_ONLY = {"jupyterlab", "jupyterlab-myst", "nbgitpuller"}
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: The repo2docker release whose build plan the slow test reads.
REPO2DOCKER = "jupyter-repo2docker==2026.4.0"
#: The chapter the fresh environment runs: it starts Spark (Java), reads the packaged data
#: and uses labkit throughout.
CHAPTER = "book/en/02-data-with-spark.md"
REPO_URL = "https://github.com/penguin-course/penguins"


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """``name -> version`` of every requirement line; fails on a line that is not ``==``."""
    found = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("--"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[a-z,]+\])?==(\S+)", line)
        assert match, f"{path.relative_to(ROOT)}:{number}: not an exact pin: {line}"
        found[normal(match.group(1))] = match.group(2)
    return found


def names(path: Path) -> set[str]:
    """The package names of a top-level requirements file, with or without a version."""
    return {normal(re.match(r"[A-Za-z0-9_.\-]+", line).group(0))
            for line in (raw.split("#", 1)[0].strip() for raw in path.read_text().splitlines())
            if line and not line.startswith("-")}


def test_binder_lock_has_the_developers_versions_and_torch_cpu_build():
    """binder/requirements.txt is resolved under requirements-lock.txt (`make lock`): a
    package both install is at the same version; the chapters' runtime is all there."""
    developers = pins(ROOT / "requirements-lock.txt")
    binder = pins(BINDER / "requirements.txt")
    shared = set(developers) & set(binder)
    assert {name: binder[name] for name in shared} == {name: developers[name] for name in shared}
    # labkit's own dependencies (pyproject.toml) are in the image: labkit comes with the
    # content and is not installed there, so nothing else would bring them
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {normal(re.match(r"[A-Za-z0-9_.\-]+", spec).group(0))
              for spec in project["dependencies"]}
    assert needed <= set(binder), needed - set(binder)
    # the image's top level takes its versions from the developers' top level
    top = names(BINDER / "requirements.in")
    assert top - BINDER_ONLY <= names(ROOT / "requirements.txt")
    assert BINDER_ONLY <= top and BINDER_ONLY <= set(binder)
    assert not DEVELOPER_ONLY & set(binder)  # what builds the site stays out of the image
    assert binder["torch"].endswith("+cpu")
    assert not [name for name in binder if name.startswith(("nvidia-", "triton"))]
    text = (BINDER / "requirements.txt").read_text()
    assert f"\n--extra-index-url {CPU_INDEX}\n" in text
    assert "/tmp" not in text and str(ROOT) not in text  # nothing of the machine that locked


def test_binder_folder_holds_the_pip_route_and_the_jupyterlab_setting():
    # An environment.yml in binder/ would make repo2docker ignore requirements.txt.
    assert sorted(p.name for p in BINDER.iterdir()) == [
        "apt.txt", "overrides.json", "postBuild", "requirements.in", "requirements.txt",
        "runtime.txt"]
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


# --- the environment's files, apart from the content -------------------------------------

def tracked_copy(folder: Path) -> Path:
    """The repository's files as they are now (tracked, and new ones git does not ignore)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True, check=True)
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    return folder


def env_files(root: Path, out: Path) -> dict[str, tuple[bytes, bool]]:
    """What scripts/binder_env.py writes from ``root``: path -> (bytes, executable). Run
    with the standard library alone (``-S``), as the workflow runs it, installing nothing."""
    result = subprocess.run([sys.executable, "-S", str(root / "scripts" / "binder_env.py"),
                             str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return {path.relative_to(out).as_posix(): (path.read_bytes(), os.access(path, os.X_OK))
            for path in sorted(out.rglob("*")) if path.is_file()}


def test_a_content_change_leaves_the_environment_byte_identical(tmp_path):
    repo = tracked_copy(tmp_path / "repo")
    before = env_files(repo, tmp_path / "before")
    assert set(before) == {*ENV_FILES, "README.md"}
    assert before["binder/postBuild"][1] and before["scripts/build-horovod.sh"][1]
    # a typo fixed in a chapter of each edition, labkit changed, the site and the toc too
    for name in (CHAPTER, CHAPTER.replace("/en/", "/ja/"), "labkit/model.py", "_config.yml",
                 "_toc.yml", "README.md", "site/launch.py", "requirements.txt"):
        with (repo / name).open("a", encoding="utf-8") as file:
            file.write("\n# changed\n")
    (repo / "book/en/new-chapter.md").write_text("# New\n")
    assert env_files(repo, tmp_path / "after") == before
    # and what the image is built from does change it
    for number, name in enumerate(("binder/requirements.txt", "binder/apt.txt",
                                   "binder/postBuild", "scripts/build-horovod.sh")):
        with (repo / name).open("a") as file:
            file.write("\n# changed\n")
        assert env_files(repo, tmp_path / f"changed{number}")[name] != before[name]


def test_the_environment_holds_every_repository_file_postbuild_uses():
    post_build = (BINDER / "postBuild").read_text()
    code = "\n".join(line for line in post_build.splitlines() if not line.lstrip().startswith("#"))
    used = set(re.findall(r"\b((?:binder|scripts)/[\w.\-/]+)", code))
    assert used and used <= set(ENV_FILES)
    assert "pip install" not in code  # labkit is not installed: it comes with the content
    # the folder the content is pulled into is the one put on Python's path
    assert f'content="${{REPO_DIR:-$HOME}}/{launch.CONTENT_FOLDER}"' in post_build


def test_binder_env_refuses_a_folder_in_use_in_one_line(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "binder_env.py"),
                             str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == f"binder_env: error: {tmp_path}: exists and is not an " \
                                    "empty folder"
    assert [path.name for path in tmp_path.iterdir()] == ["keep.txt"]


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_env_branch_is_pushed_when_and_only_when_its_files_change(tmp_path):
    """scripts/binder_env.py --publish against a local remote, as the workflow runs it."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    repo = tracked_copy(tmp_path / "repo")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "course")

    def publish() -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-S", str(repo / "scripts" / "binder_env.py"),
                                 "--publish", str(remote)], capture_output=True, text=True,
                                env={**os.environ, "GITHUB_SHA": "abc123"})
        assert result.returncode == 0, result.stderr
        return result

    def head() -> str:
        return git(remote, "rev-parse", f"refs/heads/{launch.ENV_BRANCH}")

    assert "pushed" in publish().stdout
    first = head()
    assert git(remote, "log", "-1", "--format=%s", first) == "Binder environment from abc123"
    files = git(remote, "ls-tree", "-r", "--name-only", first).splitlines()
    assert sorted(files) == sorted([*ENV_FILES, "README.md"])
    assert "100755 blob" in git(remote, "ls-tree", first, "binder/postBuild")
    with (repo / CHAPTER).open("a") as file:
        file.write("\nA typo fixed.\n")
    assert "unchanged" in publish().stdout
    assert head() == first  # same commit: mybinder.org keeps the image it built
    with (repo / "binder" / "apt.txt").open("a") as file:
        file.write("graphviz\n")
    assert "pushed" in publish().stdout
    assert head() != first and git(remote, "rev-parse", f"{head()}^") == first


# --- launch links -------------------------------------------------------------------------

def chapters(toc_path: Path) -> list[str]:
    """Every file of a toc, as a path relative to the repository (with its suffix)."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    found = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                found.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    return [next(str(path.relative_to(ROOT)) for path in ROOT.glob(f"{name}.*")
                 if path.suffix in (".md", ".ipynb")) for name in found]


def follow(url: str) -> dict[str, str]:
    """What a Binder launch link asks for: the environment's branch, and the git-pull's
    repository, branch, target folder and the JupyterLab path it opens afterwards."""
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "mybinder.org")
    provider, org, repo, env_branch = parts.path.removeprefix("/v2/").split("/")
    urlpath = parse_qs(parts.query)["urlpath"]
    assert len(urlpath) == 1
    pull = urlsplit(urlpath[0])
    assert pull.path == "git-pull"
    query = {key: value[0] for key, value in parse_qs(pull.query).items()}
    return {"env": f"{provider}/{org}/{repo}/{env_branch}", **query}


@pytest.mark.parametrize("edition", ["en", "ja"])
def test_every_chapter_has_a_link_that_opens_it_from_the_current_content(edition):
    toc = ROOT / "_toc.yml" if edition == "en" else ROOT / "book" / "ja" / "_toc.yml"
    pages = chapters(toc)
    assert len(pages) >= 10 and all(page.startswith(f"book/{edition}/") for page in pages)
    for page in pages:
        asked = follow(launch.binder_url("https://mybinder.org", REPO_URL, "main", page))
        assert asked == {"env": f"gh/penguin-course/penguins/{launch.ENV_BRANCH}",
                         "repo": REPO_URL, "branch": "main",
                         "targetpath": launch.CONTENT_FOLDER,
                         "urlpath": f"lab/tree/{launch.CONTENT_FOLDER}/{page}"}
        assert (ROOT / unquote(asked["urlpath"]).split("/", 3)[3]).is_file()


def test_a_link_names_the_branch_the_site_was_built_from_and_other_git_hosts():
    url = launch.binder_url("https://binder.example.org/", "https://gitlab.com/a/b.git",
                            "fix-typo", "book/en/x.md")
    assert url.startswith("https://binder.example.org/v2/git/"
                          "https%3A%2F%2Fgitlab.com%2Fa%2Fb/binder-env?urlpath=git-pull%3F")
    pull = parse_qs(urlsplit(parse_qs(urlsplit(url).query)["urlpath"][0]).query)
    assert pull["repo"] == ["https://gitlab.com/a/b"] and pull["branch"] == ["fix-typo"]


def test_the_workflow_publishes_the_branch_the_links_name():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "binder-env.yml").read_text())
    text = json.dumps(workflow)
    assert "scripts/binder_env.py --publish" in text
    assert launch.ENV_BRANCH in text  # the pre-build request names it too
    assert workflow["permissions"] == {"contents": "read"}
    job = next(iter(workflow["jobs"].values()))
    assert job["permissions"] == {"contents": "write"}
    assert "default_branch" in job["if"]


# --- the image, built as repo2docker builds it, and the content pulled into it ------------

def run(command: list[str], env: dict[str, str] | None = None, timeout: float = 1800,
        cwd: Path = ROOT) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, (f"{' '.join(command)} exited {result.returncode}:\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


@pytest.mark.slow
def test_repo2docker_plans_the_pip_route_from_the_env_branch(tmp_path):
    """repo2docker prints the Dockerfile it would build (``--no-build --debug``), no Docker
    needed, from the environment branch's files alone: Java 17 and the compilers from
    apt.txt, binder/requirements.txt installed into the notebook environment, then
    binder/postBuild, in REPO_DIR, the folder the session serves."""
    env_tree = tmp_path / "env"
    env_files(ROOT, env_tree)
    venv = tmp_path / "r2d"
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "pip"), "install", "-q", REPO2DOCKER], timeout=600)
    plan = run([str(venv / "bin" / "repo2docker"), "--no-build", "--no-run", "--debug",
                str(env_tree)], timeout=300)
    text = plan.stdout + plan.stderr
    assert "python=3.11" in text
    apt_line = next(line for line in text.splitlines() if "apt-get install" in line
                    and "openjdk" in line)
    assert all(name in apt_line for name in ("openjdk-17-jre-headless", "build-essential",
                                             "cmake"))
    install = text.index('pip install --no-cache-dir -r "binder/requirements.txt"')
    assert text.index("./binder/postBuild") > install
    assert re.search(r"^ENV REPO_DIR[ =]", text, re.MULTILINE)  # postBuild's ${REPO_DIR}


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory) -> dict[str, str]:
    """A fresh venv built as repo2docker builds the image from the environment branch: its
    files in REPO_DIR (the folder the session serves), binder/requirements.txt installed,
    then binder/postBuild with NB_PYTHON_PREFIX pointing at the venv. Returns the
    environment to run its programs with. The Horovod and PySpark wheels come from the
    developers' cache (scripts/build-horovod.sh, tests/wheel_cache.py), so only a first run
    anywhere builds them."""
    folder = tmp_path_factory.mktemp("binder")
    prefix, home = folder / "notebook", folder / "home"
    env_files(ROOT, home)
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env.setdefault("LABKIT_WHEEL_CACHE", str(cache_root()))
    env.update(NB_PYTHON_PREFIX=str(prefix), REPO_DIR=str(home),
               PATH=f"{prefix / 'bin'}:{env['PATH']}")
    requirements = home / "binder" / "requirements.txt"
    if not reachable(CPU_INDEX):
        # Without the index pip would ask it, in vain and with retries, about every package
        # (20 minutes more here); torch's CPU wheel must then come from a local wheelhouse.
        print(f"binder env: {CPU_INDEX} is unreachable, installing without it")
        requirements = folder / "requirements.txt"
        requirements.write_text("".join(
            line for line in (home / "binder" / "requirements.txt").read_text().splitlines(True)
            if not line.startswith("--extra-index-url")))
    started = time.perf_counter()
    run([sys.executable, "-m", "venv", str(prefix)])
    # uv installs the lock as pip would (every version pinned, so both install the same set;
    # repo2docker's own pip is what the plan test above shows), several times faster here.
    python = str(prefix / "bin" / "python")
    run([sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", python,
         "-r", str(requirements), "--find-links", str(pyspark_wheels()),
         *package_sources(env)], env=env)
    installed = time.perf_counter()
    listed = json.loads(run([python, "-m", "pip", "list", "--format=json"], env=env).stdout)
    versions = {normal(item["name"]): item["version"] for item in listed}
    locked = pins(home / "binder" / "requirements.txt")
    assert {name: versions.get(name) for name in locked} == locked  # the lock, exactly
    assert set(versions) - set(locked) == {"pip"}  # and nothing more
    result = run([str(home / "binder" / "postBuild")], env=env, cwd=home)
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


def get(url: str, token: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return response.read()


def get_json(url: str, token: str) -> dict:
    return json.loads(get(url, token))


@pytest.fixture(scope="module")
def content_repo(tmp_path_factory) -> str:
    """The course's content as a git repository (the files as they are now), by URL."""
    repo = tracked_copy(tmp_path_factory.mktemp("content") / "penguins")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "course")
    return repo.as_uri()


@pytest.fixture(scope="module")
def jupyterlab(binder_env, content_repo, tmp_path_factory):
    """JupyterLab of the fresh environment, serving REPO_DIR as a Binder session does, with
    the content pulled as a launch link has nbgitpuller pull it: ``(base URL, token)``."""
    port, token = free_port(), "labkit-binder-test"
    # Its log goes to a file, read if it fails to start: a pipe read only then could fill up
    # (64 KB) and block the server mid-test.
    log_path = tmp_path_factory.mktemp("jupyterlab") / "server.log"
    home = Path(binder_env["REPO_DIR"])
    command = [str(Path(binder_env["NB_PYTHON_PREFIX"]) / "bin" / "jupyter"), "lab",
               "--no-browser", f"--port={port}", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={home}"]
    if os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    log = log_path.open("w")
    server = subprocess.Popen(command, env=binder_env, cwd=home, stdout=subprocess.DEVNULL,
                              stderr=log, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                get_json(f"{base}/api/status", token)
                break
            except OSError:
                assert server.poll() is None, f"jupyter lab exited: {log_path.read_text()}"
                assert time.monotonic() < deadline, "jupyter lab did not answer in 120 s"
                time.sleep(0.5)
        # What the page at the link's git-pull path does (nbgitpuller's gitsync.js): ask the
        # API with the link's own repository, branch and target folder, and read its events.
        link = urlsplit(launch.git_pull_path(content_repo, "main", CHAPTER))
        page = get(f"{base}/{link.path}?{link.query}", token).decode()
        assert "Synchronizing" in page
        events = get(f"{base}/git-pull/api?{link.query}", token).decode()
        phases = [json.loads(line[6:])["phase"] for line in events.splitlines()
                  if line.startswith("data: ")]
        assert phases[-1] == "finished", events[-3000:]
        yield base, token
    finally:
        # On SIGTERM the server cleans up (no test starts a kernel through it), then its
        # process waits for ever on an idle AnyIO worker thread, which is not a daemon
        # (jupyterlab/jupyterlab#10442): a few seconds' grace, then kill (it took 30 s).
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.mark.slow
def test_the_content_pull_lands_where_postbuild_put_python_s_path(jupyterlab, binder_env):
    home = Path(binder_env["REPO_DIR"])
    content = home / launch.CONTENT_FOLDER
    assert (content / CHAPTER).read_bytes() == (ROOT / CHAPTER).read_bytes()
    python = str(Path(binder_env["NB_PYTHON_PREFIX"]) / "bin" / "python")
    found = run([python, "-c", "import labkit; print(labkit.__file__)"], env=binder_env,
                cwd=home / "binder").stdout.strip()
    assert found == str(content / "labkit" / "__init__.py")


@pytest.mark.slow
def test_jupyterlab_opens_the_pulled_chapter_as_a_notebook(jupyterlab):
    base, token = jupyterlab
    plugin = get_json(f"{base}/lab/api/settings/@jupyterlab/docmanager-extension:plugin",
                      token)
    viewers = plugin["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers["markdown"] == "Jupytext Notebook"
    model = get_json(f"{base}/api/contents/{launch.CONTENT_FOLDER}/{CHAPTER}"
                     "?type=notebook&content=1", token)
    assert model["type"] == "notebook"
    cells = model["content"]["cells"]
    assert any(cell["cell_type"] == "code" for cell in cells)


@pytest.mark.slow
def test_a_pulled_chapter_opened_through_jupytext_runs_in_a_fresh_kernel(jupyterlab, binder_env,
                                                                        tmp_path):
    """The notebook JupyterLab gets for the pulled chapter (jupytext's contents manager) runs
    top to bottom in the fresh environment's own kernel, in the chapter's folder, with the
    labkit that came with the content."""
    base, token = jupyterlab
    model = get_json(f"{base}/api/contents/{launch.CONTENT_FOLDER}/{CHAPTER}"
                     "?type=notebook&content=1", token)
    content = Path(binder_env["REPO_DIR"]) / launch.CONTENT_FOLDER
    nb = model["content"]
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                        "execution_count": None,
                        "source": "import labkit, torch\n"
                                  "print('kernel:', labkit.__file__, torch.__version__)"})
    notebook = tmp_path / "chapter.ipynb"
    notebook.write_text(json.dumps(nb))
    script = (
        "import sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "NotebookClient(nb, timeout=600, kernel_name='python3',\n"
        "               resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
        "print('ran', len(nb.cells), 'cells;', nb.cells[-1].outputs[0]['text'])\n")
    python = str(Path(binder_env["NB_PYTHON_PREFIX"]) / "bin" / "python")
    result = run([python, "-c", script, str(notebook), str((content / CHAPTER).parent)],
                 env=binder_env, timeout=900)
    assert f"kernel: {content / 'labkit' / '__init__.py'} 2.13.0+cpu" in result.stdout


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                    reason="no Chromium or chromedriver on this machine: .ci/run installs them")
def test_the_launch_link_s_git_pull_opens_the_chapter_in_jupyterlab(jupyterlab, content_repo,
                                                                    tmp_path):
    """In a browser, the part of a launch link that runs in the session: nbgitpuller's page
    syncs the content, then sends the browser to JupyterLab with the chapter open as a
    notebook (code cells, not the Markdown text)."""
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, token = jupyterlab
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        driver.get(f"{base}/{launch.git_pull_path(content_repo, 'main', CHAPTER)}"
                   f"&token={token}")
        target = f"/lab/tree/{launch.CONTENT_FOLDER}/{CHAPTER}"
        WebDriverWait(driver, 120).until(lambda d: unquote(urlsplit(d.current_url).path)
                                         == target)
        WebDriverWait(driver, 120).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell"))
        tab = driver.find_element(By.CSS_SELECTOR, ".lm-TabBar-tab.jp-mod-current")
        assert tab.text.strip().startswith(Path(CHAPTER).name)
    finally:
        driver.quit()


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
def test_two_ranks_of_each_engine_train_on_one_cpu():
    """Binder gives a session one CPU: chapter 11's two ranks still run (Spark's local[2] is
    two task threads whatever the cores), with the driver heap Binder's 2 GB leaves. Both
    engines, one after the other in one session, as the chapter runs them."""
    taskset = shutil.which("taskset")
    if taskset is None:
        pytest.skip("taskset (util-linux) is missing, so the run cannot be pinned to one CPU")
    script = ("import os\n"
              "from labkit.distributed import train_distributed\n"
              "from labkit.pipeline import prepare\n"
              "from labkit.spark import get_spark\n"
              "spark = get_spark('one-cpu')\n"
              "data = prepare(mode='honest').data\n"
              "for engine in ('horovod', 'torch'):\n"
              "    run = train_distributed(data, np=2, engine=engine, epochs=5)\n"
              "    print(engine, len(os.sched_getaffinity(0)), run.np, run.evaluation.accuracy)\n"
              "spark.stop()\n")
    env = {**os.environ, "LABKIT_SPARK_DRIVER_MEMORY": "512m"}
    result = subprocess.run([taskset, "-c", "0", sys.executable, "-c", script], env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    runs = [line.split() for line in result.stdout.splitlines()
            if line.startswith(("horovod ", "torch "))]
    assert [run[:3] for run in runs] == [["horovod", "1", "2"], ["torch", "1", "2"]], runs
    assert all(0.0 <= float(run[3]) <= 1.0 for run in runs), runs


def test_a_run_too_big_for_binder_stops_in_one_line_before_any_rank_starts():
    """Chapter 11's np=2 runs need about 2.3 GiB (Horovod) and 2.6 GiB (TorchDistributor),
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
