"""`python -m augment.probes`: write the held-out probe file the evaluator sends to a model."""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path

from augment.dataset.export import jsonl, write_atomically
from augment.errors import InputError
from augment.knowledge.facts import load_facts
from augment.knowledge.prompting import system_prompt
from augment.knowledge.seeds import load_seeds
from augment.probes.heldout import generated_turns, held_out, training_turns
from augment.probes.kinds import conflict_probes, foundation_probes, premise_probes, register_probes, unknown_probes
from augment.probes.probe import DEFAULT_PROBES, KINDS, Probe

log = logging.getLogger("augment.probes")
DEFAULT_TRAINING = Path("outputs/fine_tune.jsonl")


def build(seeds_path: Path, random_seed: int) -> list[Probe]:
    """Return every probe of the five kinds, before the held-out check."""
    seeds = load_seeds(seeds_path)
    facts = load_facts()
    places = [d for name in dict.fromkeys(seed.place for seed in seeds) if (d := facts.by_name(name))]
    return [
        *foundation_probes(places), *premise_probes(), *conflict_probes(seeds, random_seed),
        *unknown_probes(places, seeds), *register_probes(places),
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m augment.probes", description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("--out", type=Path, default=DEFAULT_PROBES, help=f"probe file to write (default {DEFAULT_PROBES})")
    parser.add_argument("--seeds", type=Path, default=Path("seeds/fine_tune.csv"), help="seed CSV the context conflicts and destinations come from (default seeds/fine_tune.csv)")
    parser.add_argument("--training", type=Path, action="append", help=f"training file (chat JSONL) no probe may duplicate; repeatable (default {DEFAULT_TRAINING} when it exists, else the seeds and misconception turns)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the context figures (default 0): same inputs give the same file")
    parser.add_argument("--min-probes", type=int, default=200, help="exit 1 if fewer probes than this survive the held-out check (default 200)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Write the probe file; return the exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)  # only this tool's lines: the HTTP client logs every request at INFO
    args = _parser().parse_args(argv)
    try:
        probes = build(args.seeds, args.seed)
        paths = args.training or ([DEFAULT_TRAINING] if DEFAULT_TRAINING.is_file() else [])
        if paths:
            training = training_turns(paths)
        else:
            log.warning("no training file at %s: probes are checked against the seeds and misconception turns only; pass --training", DEFAULT_TRAINING)
            training = generated_turns(load_seeds(args.seeds))
        kept, dropped = held_out(probes, training)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    counts = Counter(probe.kind for probe in kept)
    log.info("probes: %d (%s); dropped %d as duplicates of %d training turns", len(kept), ", ".join(f"{k} {counts[k]}" for k in KINDS), len(dropped), len(training))
    if len(kept) < args.min_probes:
        print(f"error: only {len(kept)} probes survive the held-out check (--min-probes {args.min_probes}); nothing written", file=sys.stderr)
        return 1
    system = system_prompt()
    write_atomically({args.out: jsonl(probe.line(system) for probe in kept)})
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
