"""Build both editions of the book the way `make book` and CI do, and print how long it took.

    python scripts/build_book.py [--builder html|linkcheck] [--edition en|ja] [--jobs N]

The work is done by the package ``bookbuild`` (bookbuild/__init__.py says which module does
what; bookbuild/book.py is this command). Its names are available here too, for the tests and
for ``scripts/run_chapter.py``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bookbuild import book  # noqa: E402,F401  (the command's module, for tests to patch)
from bookbuild.book import *  # noqa: E402,F403
from bookbuild.editions import *  # noqa: E402,F403
from bookbuild.execute import *  # noqa: E402,F403
from bookbuild.paths import *  # noqa: E402,F403
from bookbuild.render import *  # noqa: E402,F403
from bookbuild.siteroot import *  # noqa: E402,F403
from bookbuild.book import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
