"""``python -m summarizer``: same as the ``summarizer`` command."""

import sys

from .cli import main

sys.exit(main())
