"""`python -m trainer`: train, register, exit 0 on success or non-zero with a one-line reason."""

import sys

from trainer.main import main

if __name__ == "__main__":
    sys.exit(main())
