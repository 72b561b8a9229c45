"""Where the build reads and writes: the repository, ``_build`` and its parts."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"
SITE = BUILD / "html"
#: MathJax, installed by `make setup` (scripts/install-mathjax.sh) and served from the site.
MATHJAX = ROOT / ".venv" / "mathjax" / "node_modules" / "mathjax" / "es5"
