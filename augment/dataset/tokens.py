"""Token estimates and the OpenAI cookbook's size rules: shared by the file validator, the card and the dry run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from augment.dataset.formats import Turn

# The OpenAI cookbook's limits and epoch rule (Chat_finetuning_data_prep).
MAX_TOKENS_PER_EXAMPLE = 16_385
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES, MAX_TARGET_EXAMPLES = 100, 25_000
MIN_DEFAULT_EPOCHS, MAX_DEFAULT_EPOCHS = 1, 25
# OpenAI refuses a training file with fewer examples than this.
MIN_EXAMPLES = 10

# No tokenizer ships offline (tiktoken downloads its BPE files), so tokens are estimated. chars/4 undercounts
# Vietnamese badly: every accented letter is 2-3 UTF-8 bytes and cl100k_base merges few of them. OpenAI's
# GPT-4o announcement gives 33 cl100k_base tokens for a 115-byte Vietnamese sentence (3.5 bytes a token);
# 3 bytes a token errs high, which is the safe side for length limits and cost.
BYTES_PER_TOKEN = 3
TOKENS_PER_MESSAGE = 4  # the cookbook's 3 per message plus 1 for the role
TOKENS_PER_REPLY = 3
TOKEN_ESTIMATE = "estimate: ceil(UTF-8 bytes / 3) per turn + 4 per message + 3, sized for cl100k_base on Vietnamese"


@lru_cache(maxsize=4096)  # the system prompt is on every line, and the variants of a seed share answers
def estimate_tokens(text: str) -> int:
    """Estimate the cl100k_base tokens of a text from its UTF-8 length (an estimate, not a tokenizer)."""
    return math.ceil(len(text.encode("utf-8", "surrogatepass")) / BYTES_PER_TOKEN)


def example_tokens(turns: Sequence[Turn]) -> int:
    """Estimate an example's tokens the way the cookbook counts them: per message overhead plus contents."""
    return TOKENS_PER_REPLY + sum(TOKENS_PER_MESSAGE + estimate_tokens(text) for _, text in turns)


def default_epochs(examples: int) -> int:
    """Return the epochs OpenAI picks by default for this many examples (the cookbook's rule)."""
    if examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // examples)
    if examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // examples)
    return TARGET_EPOCHS
