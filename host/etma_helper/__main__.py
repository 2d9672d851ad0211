"""``python -m etma_helper``: the command line."""

import sys

from .cli import main

sys.exit(main())
