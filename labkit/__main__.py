"""``python -m labkit`` and the ``labkit`` command: the command line, Ctrl-C included."""

import sys


def run() -> int:
    """Start the command line. Ctrl-C while it is still being imported (its first tenth
    of a second) gets the same one line as Ctrl-C later, not a traceback."""
    try:
        from labkit.cli import main

        return main()  # which answers Ctrl-C itself from its first step
    except KeyboardInterrupt:
        print("labkit: error: interrupted", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    raise SystemExit(run())
