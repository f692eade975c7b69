"""`run.py mutation [TARGET...] [--gate] [--record]`: mutation testing of the pure core, scored per module.

Runs mutmut over each target module with only the tests that state its rules (service/mutation/targets.py),
prints per target the mutants generated, killed, listed as equivalent in docs/MUTATION.md, and surviving,
with the diff of each survivor. Exit status 1 when a gate target (the order rules, the decider and their
fair-price and protection helpers) keeps a survivor not listed as equivalent, or another target kills fewer
than 95 %; 2 when mutmut could not judge a target.
"""

from __future__ import annotations

import argparse
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from service.mutation.equivalents import entry_line, read_equivalents
from service.mutation.runner import MutationRunError, TargetReport, run_target
from service.mutation.targets import TARGETS, select

PROJECT = Path(__file__).resolve().parents[2]
DOCUMENT = PROJECT / "docs" / "MUTATION.md"
SCRATCH = PROJECT / ".mutation"
RESULTS_START, RESULTS_END = "<!-- mutation-results:start -->", "<!-- mutation-results:end -->"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "mutation", help="mutation testing of the pure core (mutmut), scored per module",
        description="Mutate each target module and run the tests that state its rules against every mutant. "
        f"Targets: {', '.join(t.name for t in TARGETS)} (all when none is named).")
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="the modules to mutate, by target name")
    parser.add_argument("--gate", action="store_true",
                        help="only the gate targets (what CI checks: no surviving mutant not listed as equivalent)")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2, metavar="N",
                        help="mutants tested at once (default: the number of CPUs)")
    parser.add_argument("--timeout", type=float, default=900.0, metavar="SECONDS",
                        help="the most one target may take (default 900)")
    parser.add_argument("--record", action="store_true",
                        help=f"write each target's figures into the results table of {DOCUMENT.relative_to(PROJECT)}")
    parser.set_defaults(handler=run_mutation)


def run_mutation(args: argparse.Namespace) -> int:
    try:
        targets = select(args.targets, args.gate)
    except ValueError as error:
        print(f"mutation: {error}")
        return 2
    equivalents = read_equivalents(DOCUMENT)
    reports: list[TargetReport] = []
    for target in targets:
        print(f"mutation: {target.name} ({target.source}) against {' '.join(target.tests)}", flush=True)
        try:
            report = run_target(target, PROJECT, SCRATCH, equivalents, max_children=args.max_children,
                                timeout_s=args.timeout)
        except MutationRunError as error:
            print(f"mutation: {error}")
            return 2
        reports.append(report)
        _print_report(report)
    print()
    for report in reports:
        print(_summary_line(report))
    if args.record:
        _record(reports, " ".join(["python3 run.py mutation", *(["--gate"] if args.gate else []), *args.targets]))
    return 0 if all(report.passed for report in reports) else 1


def _summary_line(report: TargetReport) -> str:
    verdict = "ok" if report.passed else "FAILED"
    return (f"{report.target.name:<8} generated {report.generated:>4}  killed {report.killed:>4}  "
            f"equivalent {len(report.equivalent):>3}  surviving {len(report.surviving):>3}  "
            f"score {report.score:6.2f} % (needs {report.target.required_score:g} %)  "
            f"{report.elapsed_s:5.0f} s  {verdict}")


def _print_report(report: TargetReport) -> None:
    print(_summary_line(report), flush=True)
    for mutant in report.surviving:
        why = "no selected test calls this function" if mutant.untested else "survived"
        print(f"\n  {mutant.name}: {why}")
        print("    " + mutant.diff.strip().replace("\n", "\n    "))
        print("  if it is equivalent, list it in docs/MUTATION.md as:")
        print("    " + entry_line(report.target.name, mutant.mutation, "<why no behaviour changes>"))
    if report.other:
        print(f"  {report.other} mutants crashed their test run (segfault or a suspicious exit): see the log in "
              f"{SCRATCH.relative_to(PROJECT)}/{report.target.name}/")


def _record(reports: list[TargetReport], command: str) -> None:
    """Replace the rows of the targets run in the results table of the document (kept between markers)."""
    text = DOCUMENT.read_text(encoding="utf-8")
    head, start, rest = text.partition(RESULTS_START)
    table, end, tail = rest.partition(RESULTS_END)
    if not start or not end:
        raise SystemExit(f"mutation: {DOCUMENT} has no {RESULTS_START} … {RESULTS_END} section")
    day = datetime.now(UTC).date().isoformat()
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs"
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")
            and not line.startswith(("| target", "|---"))}
    for report in reports:
        rows[report.target.name] = (
            f"| {report.target.name} | `{report.target.source}` | {report.generated} | {report.killed} | "
            f"{len(report.equivalent)} | {len(report.surviving)} | {report.score:.2f} % | "
            f"{report.target.required_score:g} % | {report.elapsed_s:.0f} s | {day} | `{command}` | {machine} |")
    order = [t.name for t in TARGETS]
    lines = ["", "| target | module | generated | killed | equivalent | surviving | score | needs | time | date "
                 "| command | machine |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|",
             *(rows[name] for name in sorted(rows, key=lambda n: order.index(n) if n in order else len(order))), ""]
    DOCUMENT.write_text(head + start + "\n".join(lines) + end + tail, encoding="utf-8")
