"""Benchmark the classifier on one CPU against bare parsing and flufl.bounce.

    python -m bounces.classifier.bench --repeat 5 [--corpus DIR]

Prints messages per second for (1) this classifier, (a) Python's ``email`` parser alone
(compat32 ``message_from_bytes``) and (b) flufl.bounce's ``all_failures`` (when installed),
each over the same messages held in memory.
"""

from __future__ import annotations

import argparse
import email
import os
import time
from collections.abc import Callable
from pathlib import Path

from . import analyse

DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "bounce-corpus" / "dev"


def load(corpus: Path) -> list[bytes]:
    """Return the raw bytes of every message file under ``corpus``."""
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".eml", ""))
    return [p.read_bytes() for p in files]


def rate(func: Callable[[bytes], object], raws: list[bytes], repeat: int) -> float:
    """Return messages per second of ``func`` over ``raws``, best of ``repeat`` passes."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for raw in raws:
            func(raw)
        best = min(best, time.perf_counter() - start)
    return len(raws) / best if best > 0 else float("inf")


def flufl_function() -> Callable[[bytes], object] | None:
    """Return a callable running flufl.bounce detection, or None when it is not installed."""
    try:
        from flufl.bounce import all_failures
    except ImportError:
        return None

    def detect(raw: bytes) -> object:
        return all_failures(email.message_from_bytes(raw))

    return detect


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the three figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="passes per figure (best kept)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of messages")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: first)")
    args = parser.parse_args(argv)

    if hasattr(os, "sched_setaffinity"):
        # One core, so the figures compare single-threaded work and ignore machine load spread.
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {args.cpu if args.cpu is not None else cpus[0]})
    raws = load(args.corpus)
    if not raws:
        parser.error(f"no messages under {args.corpus}")
    repeat = max(1, args.repeat)
    # Warm up: first use compiles regular expressions and imports lazily loaded codecs.
    for raw in raws:
        analyse(raw)

    ours = rate(analyse, raws, repeat)
    bare = rate(email.message_from_bytes, raws, repeat)
    flufl = flufl_function()
    peer = rate(flufl, raws, repeat) if flufl else None

    print(f"messages: {len(raws)} from {args.corpus}, best of {repeat} passes, one CPU")
    print(f"bounces.classifier.analyse     {ours:9.0f} msg/s")
    print(f"email.message_from_bytes only  {bare:9.0f} msg/s  (classifier = {bare / ours:.2f}x)")
    if peer is None:
        print("flufl.bounce.all_failures      not installed (pip install flufl.bounce)")
    else:
        speedup = ours / peer
        print(
            f"flufl.bounce.all_failures      {peer:9.0f} msg/s  (classifier {speedup:.1f}x as fast)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
