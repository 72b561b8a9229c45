"""Execute one chapter as the book build does, without building the site:

    .venv/bin/python scripts/run_chapter.py book/en/05-backpropagation.md

prints each cell's text output, the seconds it took and any error, and saves the
executed notebook as /tmp/<edition>-<chapter>.ipynb for a closer look.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import nbformat  # noqa: E402

from bookbuild.execute import execute_chapter, execute_settings  # noqa: E402

path = Path(sys.argv[1]).resolve()
nb, seconds, error = execute_chapter(path, execute_settings())
out = Path("/tmp") / (path.parent.name + "-" + path.stem + ".ipynb")
nbformat.write(nb, out)
for i, cell in enumerate(nb.cells):
    for o in cell.get("outputs", []):
        text = o.get("text") or o.get("data", {}).get("text/plain")
        if text and o.get("output_type") != "display_data":
            print(f"[cell {i}] {text[:300]}")
print(f"{path.name}: {seconds:.1f} s", "OK" if error is None else "ERROR\n" + error)
print("saved", out)
