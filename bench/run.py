#!/usr/bin/env python3
"""Entry point of the benchmark; run it through `bench/run`, which makes the venv it needs.

The code is the `benchlib` package beside this file; its docstring lists the steps of a run.
"""

from benchlib.cli import main

if __name__ == "__main__":
    main()
