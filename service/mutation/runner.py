"""Running mutmut over one target in a scratch directory of its own, and reading what it found.

Each target runs in `.mutation/<target>/`, which links the project's packages and tests and holds a
pyproject.toml that tells mutmut the one module to mutate and the tests to select; runs of different
targets never share mutmut's `mutants/` tree. Every run starts from scratch, so no verdict is reused from
an earlier run of other code or other tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec

from service.mutation.equivalents import Equivalent, Mutation, mutation_of
from service.mutation.targets import MutationTarget

LINKED = ("domain", "actors", "adapters", "messages", "service", "sql", "replay", "tests", "run.py", "bootstrap.py")
"""What a scratch directory links from the project root."""
SOURCE_PATHS = ("domain", "actors", "adapters", "messages", "service", "sql", "replay")
"""What mutmut copies into its mutants/ tree, so that every import of the tests comes from one tree."""
KILLED, SURVIVED, NO_TESTS = frozenset({1, 3}), frozenset({0}), frozenset({5, 33})
TIMED_OUT = frozenset({36, 24, -24, 152, 255})
"""mutmut 3's exit codes of a mutant's test run, by verdict."""


class MutationRunError(Exception):
    """mutmut could not judge the target (its clean tests failed, or it ran out of time)."""


class SurvivingMutant(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    mutation: Mutation
    diff: str
    untested: bool
    """No selected test calls the function at all."""


class TargetReport(msgspec.Struct, frozen=True, kw_only=True):
    target: MutationTarget
    generated: int
    killed: int
    """Killed by a failing test, or by a test that ran out of time (an infinite loop is caught)."""
    equivalent: tuple[SurvivingMutant, ...]
    surviving: tuple[SurvivingMutant, ...]
    """Neither killed nor listed as equivalent: the mutants that make a target fail."""
    other: int
    """Verdicts that are neither (a crash of the test process): counted as not killed."""
    elapsed_s: float

    @property
    def score(self) -> float:
        """Killed, as a percentage of the mutants that are not equivalent."""
        judged = self.generated - len(self.equivalent)
        return 100.0 if judged == 0 else 100.0 * self.killed / judged

    @property
    def passed(self) -> bool:
        if self.target.gate:
            return not self.surviving and self.other == 0
        return self.score >= self.target.required_score


def run_target(target: MutationTarget, project: Path, scratch_root: Path, equivalents: list[Equivalent], *,
               max_children: int, timeout_s: float) -> TargetReport:
    work = _prepare(target, project, scratch_root)
    log = work / "mutmut.log"
    started = time.monotonic()
    with log.open("wb") as out:
        try:
            finished = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)],
                                      cwd=work, stdout=out, stderr=subprocess.STDOUT, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as expired:
            raise MutationRunError(f"{target.name}: mutmut ran out of its {timeout_s:g} s (log: {log})") from expired
    if finished.returncode != 0:
        raise MutationRunError(f"{target.name}: mutmut exited {finished.returncode} (log: {log}):\n"
                               + _tail(log))
    verdicts = _verdicts(work, target)
    not_killed = [name for name, code in verdicts.items() if code in SURVIVED | NO_TESTS]
    diffs = _diffs(work, not_killed)
    known = {(e.target, e.mutation) for e in equivalents}
    judged = [SurvivingMutant(name=name, mutation=mutation_of(name, diffs[name]), diff=diffs[name],
                              untested=verdicts[name] in NO_TESTS) for name in sorted(not_killed)]
    return TargetReport(
        target=target, generated=len(verdicts),
        killed=sum(1 for code in verdicts.values() if code in KILLED | TIMED_OUT),
        equivalent=tuple(m for m in judged if (target.name, m.mutation) in known),
        surviving=tuple(m for m in judged if (target.name, m.mutation) not in known),
        other=sum(1 for code in verdicts.values() if code not in KILLED | TIMED_OUT | SURVIVED | NO_TESTS),
        elapsed_s=time.monotonic() - started)


def _prepare(target: MutationTarget, project: Path, scratch_root: Path) -> Path:
    missing = [path for path in (target.source, *target.tests) if not (project / path.split("::")[0]).exists()]
    if missing:
        raise MutationRunError(f"{target.name}: no such file {', '.join(missing)}")
    work = scratch_root / target.name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in LINKED:
        (work / name).symlink_to(project / name)
    settings = "\n".join((
        "", "[tool.mutmut]",
        f"source_paths = {json.dumps(list(SOURCE_PATHS))}",
        f"only_mutate = {json.dumps([target.source])}",
        f"pytest_add_cli_args_test_selection = {json.dumps(list(target.tests))}",
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]',
        "use_setproctitle = false", ""))
    (work / "pyproject.toml").write_text((project / "pyproject.toml").read_text(encoding="utf-8") + settings,
                                         encoding="utf-8")
    return work


def _verdicts(work: Path, target: MutationTarget) -> dict[str, int | None]:
    meta = work / "mutants" / f"{target.source}.meta"
    if not meta.exists():
        raise MutationRunError(f"{target.name}: mutmut wrote no results ({meta} is missing)")
    return json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]


def _diffs(work: Path, names: list[str]) -> dict[str, str]:
    def show(name: str) -> str:
        shown = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=work, capture_output=True,
                               text=True, check=False)
        if shown.returncode != 0:
            raise MutationRunError(f"mutmut show {name} failed: {shown.stderr.strip()}")
        return shown.stdout

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(names, pool.map(show, names), strict=True))


def _tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
    return "\n".join(line for line in text.splitlines()[-lines:] if line.strip())
