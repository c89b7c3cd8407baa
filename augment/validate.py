"""Entry point kept for `python -m augment.validate FILE...`; the validator lives in augment/dataset/validate.py."""

import sys

from augment.dataset.validate import main

if __name__ == "__main__":
    sys.exit(main())
