"""Per-account results kept while their input is the same object: recomputed on a new object or other
extra inputs, never on an equal-looking one, and bounded."""

from __future__ import annotations

from actors.account_memo import AccountMemo


def test_a_result_is_reused_only_for_the_same_source_object_and_equal_extra():
    memo: AccountMemo[list[str]] = AccountMemo()
    computed = []

    def compute(label):
        computed.append(label)
        return [label]

    source = ("row-1", "row-2")
    first = memo.get(1, 10, source, ("mark", 5), lambda: compute("a"))
    assert memo.get(1, 10, source, ("mark", 5), lambda: compute("b")) is first
    source = tuple(list(source))
    assert memo.get(1, 10, tuple(list(source)), ("mark", 5), lambda: compute("c")) == ["c"]  # equal, not the same
    changed = ("row-1", "row-3")
    assert memo.get(1, 10, changed, ("mark", 5), lambda: compute("d")) == ["d"]
    assert memo.get(1, 10, changed, ("mark", 6), lambda: compute("e")) == ["e"]
    assert memo.get(2, 10, changed, ("mark", 6), lambda: compute("f")) == ["f"]  # another user's account
    assert computed == ["a", "c", "d", "e", "f"]


def test_past_its_bound_the_oldest_account_is_computed_again():
    memo: AccountMemo[str] = AccountMemo(max_accounts=2)
    sources = {account: object() for account in (1, 2, 3)}
    for account in (1, 2, 3):
        memo.get(1, account, sources[account], None, lambda a=account: f"first {a}")

    assert memo.get(1, 1, sources[1], None, lambda: "again 1") == "again 1"
    assert memo.get(1, 3, sources[3], None, lambda: "again 3") == "first 3"
