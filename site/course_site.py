"""The course's Sphinx extension, as ``_config.yml`` names it (``course_site: site``): the
code is ``bookbuild/course_site.py``, with the rest of the build."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bookbuild.course_site import *  # noqa: E402,F403
from bookbuild.course_site import setup  # noqa: E402,F401
