"""``python -m thermalctl``: the same as the ``thermalctl`` script."""

import sys

from thermalctl.cli import main

sys.exit(main())
