"""Order tags: deterministic, at most 20 characters, and traceable back to (order, leg, attempt)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.order_placer.tags import MAX_TAG_LENGTH, order_tag, parse_tag

LEGS = st.sampled_from(["entry", "sl", "tp"])


@given(st.integers(0, 2**63 - 1), LEGS, st.integers(1, 10_000))
def test_every_tag_fits_xts_and_parses_back_to_its_order_leg_and_attempt(order_id, leg, attempt):
    tag = order_tag(order_id, leg, attempt)
    assert len(tag) <= MAX_TAG_LENGTH
    assert parse_tag(tag) == (order_id, leg, attempt)


@given(st.integers(0, 10**9), LEGS, st.integers(1, 50), st.integers(0, 10**9), LEGS, st.integers(1, 50))
def test_different_intents_never_share_a_tag(o1, l1, a1, o2, l2, a2):
    if (o1, l1, a1) != (o2, l2, a2):
        assert order_tag(o1, l1, a1) != order_tag(o2, l2, a2)


def test_the_same_intent_always_gets_the_same_tag():
    assert order_tag(123456, "sl", 1) == order_tag(123456, "sl", 1) == "M2n9cS1"


@pytest.mark.parametrize("foreign", [None, "", "123abc", "MS1", "M12S", "Mabc", "M1S2T3", "X2n9cS1", "M" * 21])
def test_tags_of_others_are_not_mistaken_for_ours(foreign):
    assert parse_tag(foreign) is None


def test_nonsense_inputs_are_refused():
    with pytest.raises(ValueError):
        order_tag(-1, "sl", 1)
    with pytest.raises(ValueError):
        order_tag(1, "sl", 0)
