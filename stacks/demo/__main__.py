"""``python -m stacks.demo``: see :mod:`stacks.demo`."""

import sys

from . import main

sys.exit(main())
