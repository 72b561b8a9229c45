"""Print each edition of the built book as one PDF (`make pdf`): _build/pdf/en.pdf, ja.pdf.

    python scripts/build_pdf.py [--edition en|ja]

The work is done by ``bookbuild.pdf`` (its docstring says how, and why the browser prints it).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bookbuild.pdf import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
