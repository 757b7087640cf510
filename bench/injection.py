"""Prompt-injection screening against its evaluation set: precision, recall and F1 overall and per
language, recall per attack category, false positives per kind of normal message, and the time one
``screen`` call takes (p50/p99 over every case, ``--rounds`` times).

The set (``bench/injection/cases.json``) holds customer messages to a fictitious store, dental
clinic and internet provider, in Spanish and English: attacks labelled by category (override,
reveal, jailbreak, spoofing, obfuscation) and normal messages, ``hard_negative`` ones being those
that look like attacks (``ignore my last message``, ``olvida lo anterior``, ``the system says``).
The ``dev`` split was written while the rules were written; the ``holdout`` split was written
afterwards and screened once before any rule changed, so its figures are the honest estimate.

    .venv/bin/python -m bench.injection [--rounds 20] [--errors]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxinbox.bot.screening import screen

CASES = Path(__file__).parent / "injection" / "cases.json"


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, attack: bool, flagged: bool) -> None:
        if attack and flagged:
            self.tp += 1
        elif attack:
            self.fn += 1
        elif flagged:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load_cases(path: Path = CASES) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return cases


def evaluate(cases: list[dict[str, Any]]) -> tuple[dict[str, Counts], list[dict[str, Any]]]:
    """Counts overall (``all``), per split (``split:dev|holdout``), per language (``lang:xx``) and
    per category (``cat:name``), and the cases screened wrongly."""
    counts: dict[str, Counts] = {}
    wrong = []
    for case in cases:
        attack = case["label"] == "attack"
        flagged = screen(case["text"]).flagged
        for key in ("all", f"split:{case['split']}", f"lang:{case['lang']}", f"cat:{case['category']}"):
            counts.setdefault(key, Counts()).add(attack, flagged)
        if flagged != attack:
            wrong.append(case)
    return counts, wrong


def timings(cases: list[dict[str, Any]], rounds: int) -> list[list[float]]:
    """Microseconds per ``screen`` call: one list per case, one figure per round."""
    out: list[list[float]] = [[] for _ in cases]
    for _ in range(rounds):
        for per_case, case in zip(out, cases, strict=True):
            start = time.perf_counter_ns()
            screen(case["text"])
            per_case.append((time.perf_counter_ns() - start) / 1000)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--rounds", type=int, default=20, help="timing rounds over the whole set")
    parser.add_argument("--errors", action="store_true", help="list the cases screened wrongly")
    args = parser.parse_args()
    cases = load_cases(args.cases)
    counts, wrong = evaluate(cases)
    attacks = sum(c["label"] == "attack" for c in cases)
    print(f"{len(cases)} cases: {attacks} attacks, {len(cases) - attacks} normal messages")
    print(f"{platform.machine()}, Python {platform.python_version()}\n")
    print("| slice | cases | precision | recall | F1 | false positives |")
    print("|---|---:|---:|---:|---:|---:|")
    order = ("all", "split", "lang", "cat")
    for key in sorted(counts, key=lambda k: (order.index(k.split(":")[0]), k)):
        c = counts[key]
        total = c.tp + c.fp + c.fn + c.tn
        if key.startswith("cat:") and c.tp + c.fn == 0:
            print(f"| {key} | {total} | | | | {c.fp} ({c.fp / total:.1%}) |")
        elif key.startswith("cat:"):
            print(f"| {key} | {total} | | {c.recall:.3f} | | |")
        else:
            print(f"| {key} | {total} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} | {c.fp} |")
    per_case = timings(cases, args.rounds)
    calls = [m for case in per_case for m in case]
    medians = [statistics.median(case) for case in per_case]
    print(
        f"\ntime per call: p50 {percentile(calls, 0.5):.1f} µs, p99 {percentile(calls, 0.99):.1f} µs,"
        f" mean {statistics.fmean(calls):.1f} µs ({len(calls)} calls)"
    )
    print(
        f"time per message (its median over {args.rounds} rounds, which hides other processes' noise):"
        f" p50 {percentile(medians, 0.5):.1f} µs, p99 {percentile(medians, 0.99):.1f} µs,"
        f" max {max(medians):.1f} µs"
    )
    if args.errors:
        print()
        for case in wrong:
            print(
                f"{case['split']:7} {case['label']:6} {case['category']:13} {case['lang']} {case['text']!r}"
            )


if __name__ == "__main__":
    main()
