"""Per-account results kept by the version of the content they were computed from: reused for the same
version and equal extra inputs, computed again for another version or other extra inputs, kept apart per
account, and bounded."""

from __future__ import annotations

from actors.account_memo import AccountMemo


def test_a_result_is_reused_only_for_the_same_version_and_equal_extra():
    memo: AccountMemo[list[str]] = AccountMemo()
    computed = []

    def compute(label):
        computed.append(label)
        return [label]

    first = memo.get(1, 10, 7, ("mark", 5), lambda: compute("a"))
    assert memo.get(1, 10, 7, ("mark", 5), lambda: compute("b")) is first
    assert memo.get(1, 10, 8, ("mark", 5), lambda: compute("c")) == ["c"]
    assert memo.get(1, 10, 8, ("mark", 6), lambda: compute("d")) == ["d"]
    assert memo.get(1, 10, 7, ("mark", 6), lambda: compute("e")) == ["e"]  # an older version is computed again
    assert computed == ["a", "c", "d", "e"]


def test_two_accounts_never_share_a_result_even_under_one_version_number():
    memo: AccountMemo[str] = AccountMemo()
    memo.get(1, 10, 7, None, lambda: "user 1 account 10")

    assert memo.get(2, 10, 7, None, lambda: "user 2 account 10") == "user 2 account 10"
    assert memo.get(1, 11, 7, None, lambda: "user 1 account 11") == "user 1 account 11"
    assert memo.get(1, 10, 7, None, lambda: "again") == "user 1 account 10"


def test_past_its_bound_the_oldest_account_is_computed_again():
    memo: AccountMemo[str] = AccountMemo(max_accounts=2)
    for account in (1, 2, 3):
        memo.get(1, account, account, None, lambda a=account: f"first {a}")

    assert memo.get(1, 1, 1, None, lambda: "again 1") == "again 1"
    assert memo.get(1, 3, 3, None, lambda: "again 3") == "first 3"
