"""``python -m prefc``: the command line."""

import sys

from prefc.cli import main

sys.exit(main())
