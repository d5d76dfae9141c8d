"""Benchmark the classifier on one CPU against bare parsing and flufl.bounce.

    python -m bench.classifier --repeat 5 [--corpus DIR] [--clock cpu|wall]

Prints messages per second for (1) this classifier, (a) Python's ``email`` parser alone
(compat32 ``message_from_bytes``) and (b) flufl.bounce's ``all_failures`` (when installed),
each over the same messages held in memory.  The passes of the three take turns (one pass of
each per round), so a burst of load on a shared machine slows all three alike; the best and
the median pass of each are reported.  By default a pass is timed in CPU seconds of this
process (``time.process_time``), which other processes on a shared machine do not inflate;
``--clock wall`` times it by the wall clock instead.
"""

from __future__ import annotations

import argparse
import email
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bounces.classifier import analyse


def _default_corpus() -> Path:
    """The dev split in ``shared/`` beside the repository (``../shared`` in CI), or beside one
    of its ancestor folders (a worktree checked out deeper)."""
    repo = Path(__file__).resolve().parents[1]
    for folder in repo.parents:
        candidate = folder / "shared" / "bounce-corpus" / "dev"
        if candidate.is_dir():
            return candidate
    return repo.parent / "shared" / "bounce-corpus" / "dev"


DEFAULT_CORPUS = _default_corpus()


def load(corpus: Path) -> list[bytes]:
    """Return the raw bytes of every message file under ``corpus``."""
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".eml", ""))
    return [p.read_bytes() for p in files]


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def one_pass(
    func: Callable[[bytes], object],
    raws: list[bytes],
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Return the seconds ``func`` takes over every message of ``raws`` once."""
    start = clock()
    for raw in raws:
        func(raw)
    return clock() - start


def rates(
    funcs: dict[str, Callable[[bytes], object]],
    raws: list[bytes],
    repeat: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, tuple[float, float]]:
    """Return (best, median) messages per second of each function over ``raws``.

    Each round runs one pass of every function in turn, ``repeat`` rounds in all.
    """
    seconds: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(repeat):
        for name, func in funcs.items():
            seconds[name].append(one_pass(func, raws, clock))
    return {
        name: (len(raws) / min(times), len(raws) / statistics.median(times))
        for name, times in seconds.items()
    }


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
    parser.add_argument("--repeat", type=int, default=5, help="passes per figure")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of messages")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: first)")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="cpu", help="time passes in CPU or wall seconds"
    )
    args = parser.parse_args(argv)

    if hasattr(os, "sched_setaffinity"):
        # One core, so the figures compare single-threaded work and ignore machine load spread.
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {args.cpu if args.cpu is not None else cpus[0]})
    raws = load(args.corpus)
    if not raws:
        parser.error(f"no messages under {args.corpus}")
    repeat = max(1, args.repeat)
    funcs: dict[str, Callable[[bytes], object]] = {
        "bounces.classifier.analyse": analyse,
        "email.message_from_bytes only": email.message_from_bytes,
    }
    flufl = flufl_function()
    if flufl is not None:
        funcs["flufl.bounce.all_failures"] = flufl
    # Warm up: first use compiles regular expressions and imports lazily loaded codecs.
    for func in funcs.values():
        one_pass(func, raws)
    figures = rates(funcs, raws, repeat, CLOCKS[args.clock])
    ours = figures["bounces.classifier.analyse"][0]

    print(
        f"messages: {len(raws)} from {args.corpus}; {repeat} interleaved passes each, one CPU, "
        f"{args.clock} clock"
    )
    print(f"{'':31} {'best':>9} {'median':>9}  msg/s")
    for name, (best, median) in figures.items():
        line = f"{name:31} {best:9.0f} {median:9.0f}"
        if name == "email.message_from_bytes only":
            line += f"  (classifier takes {best / ours:.2f}x as long)"
        elif name == "flufl.bounce.all_failures":
            line += f"  (classifier {ours / best:.2f}x as fast)"
        print(line)
    if flufl is None:
        print("flufl.bounce.all_failures       not installed (pip install flufl.bounce)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
