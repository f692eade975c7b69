"""The equivalent mutants that docs/MUTATION.md lists, and how a surviving mutant is matched to one.

A mutant is named by mutmut with a number that changes whenever its function is edited, so an entry names
it by what cannot drift silently: the target, the function, and the mutated line before and after. An entry
reads, on one line of the document:

    - **rules** `to_tick`: `rounding = ROUND_CEILING if side == "BUY" else ROUND_FLOOR` → `...` — why
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

ENTRY = re.compile(
    r"^- \*\*(?P<target>[\w-]+)\*\* `(?P<function>[^`]+)`: `(?P<before>[^`]*)` → `(?P<after>[^`]*)`"
    r" — (?P<reason>\S.*)$")


class Mutation(msgspec.Struct, frozen=True, kw_only=True):
    """What a mutant changed: its function and its lines before and after, whitespace-trimmed and joined."""

    function: str
    before: str
    after: str


class Equivalent(msgspec.Struct, frozen=True, kw_only=True):
    target: str
    mutation: Mutation
    reason: str


def read_equivalents(document: Path) -> list[Equivalent]:
    """Every equivalent-mutant entry of `document` (none when it does not exist)."""
    if not document.exists():
        return []
    entries = []
    for line in document.read_text(encoding="utf-8").splitlines():
        if (found := ENTRY.match(line.strip())) is not None:
            entries.append(Equivalent(
                target=found["target"], reason=found["reason"],
                mutation=Mutation(function=found["function"], before=found["before"], after=found["after"])))
    return entries


def function_of(mutant_name: str) -> str:
    """`actors.x.rules.x_to_tick__mutmut_3` → `to_tick`; a method `...xǁBookIndexǁleg__mutmut_1` → `BookIndex.leg`."""
    generated = mutant_name.rpartition(".")[2].rpartition("__mutmut_")[0]
    if generated.startswith("xǁ"):
        return ".".join(part for part in generated[2:].split("ǁ") if part)
    return generated.removeprefix("x_")


def mutation_of(mutant_name: str, diff: str) -> Mutation:
    """The mutation a unified diff of one mutant shows."""
    body = [line for line in diff.splitlines() if not line.startswith(("---", "+++", "@@", "#"))]
    removed = " / ".join(line[1:].strip() for line in body if line.startswith("-"))
    added = " / ".join(line[1:].strip() for line in body if line.startswith("+"))
    return Mutation(function=function_of(mutant_name), before=removed, after=added)


def entry_line(target: str, mutation: Mutation, reason: str) -> str:
    """The document line that lists `mutation` as equivalent (what a reviewer pastes, with the reason)."""
    return f"- **{target}** `{mutation.function}`: `{mutation.before}` → `{mutation.after}` — {reason}"
