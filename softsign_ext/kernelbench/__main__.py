import sys

from .submission import main

sys.exit(main())
