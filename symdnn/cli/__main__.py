"""``python -m symdnn.cli``: the same as the ``symdnn`` console script."""

import sys

from symdnn.cli import main

sys.exit(main())
