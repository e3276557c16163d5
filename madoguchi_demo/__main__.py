"""`python -m madoguchi_demo`: the same as the `madoguchi-demo` console script."""

from __future__ import annotations

import sys

from madoguchi_demo.cli import main

sys.exit(main())
