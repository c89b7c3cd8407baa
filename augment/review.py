"""Entry point for `python -m augment.review OUT.jsonl`; the review page lives in augment/dataset/review*.py."""

import sys

from augment.dataset.review import main

if __name__ == "__main__":
    sys.exit(main())
