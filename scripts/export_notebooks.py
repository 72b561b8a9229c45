"""Export the chapters as plain Jupyter notebooks, for Databricks and for Colab.

    python scripts/export_notebooks.py [--out _build/notebooks] [--editions en ja]
                                       [--colab-labkit git+https://github.com/OWNER/NAME@SHA]

The work is done by ``bookbuild.notebooks`` (its docstring says what is written where).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bookbuild.notebooks import *  # noqa: E402,F403
from bookbuild.notebooks import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
