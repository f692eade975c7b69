"""Order tags: deterministic, at most 20 characters, and traceable back to (order, leg, attempt)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.broker import MAX_TAG_LENGTH
from domain.tags import order_tag, parse_tag

LEGS = st.sampled_from(["entry", "sl", "tp"])
LARGEST_ORDER_ID_IN_A_FIRST_ATTEMPT_TAG = 36**17 - 1
"""17 base36 digits: with the prefix, the leg code and attempt 1 the tag is exactly 20 characters."""


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


@pytest.mark.parametrize(("leg", "tag"), [("entry", "M2n9cE1"), ("sl", "M2n9cS1"), ("tp", "M2n9cT1")])
def test_given_a_leg_when_tagged_then_its_code_letter_follows_the_order_id(leg, tag):
    assert order_tag(123456, leg, 1) == tag


@pytest.mark.parametrize(("leg", "tag"), [("entry", "M2n9cE1"), ("sl", "M2n9cS1"), ("tp", "M2n9cT1")])
def test_given_a_tag_of_ours_when_parsed_then_its_code_letter_gives_the_leg(leg, tag):
    assert parse_tag(tag) == (123456, leg, 1)


@pytest.mark.parametrize(
    ("order_id", "attempt", "tag"),
    [(0, 1, "M0E1"), (35, 36, "MzE10"), (36, 35, "M10Ez"), (36**2, 36**2 - 1, "M100Ezz")],
)
def test_given_ids_at_a_base36_digit_boundary_when_tagged_then_they_are_written_in_lower_case_base36(
    order_id, attempt, tag
):
    assert order_tag(order_id, "entry", attempt) == tag
    assert parse_tag(tag) == (order_id, "entry", attempt)


def test_given_the_largest_order_id_that_fits_when_tagged_for_attempt_1_then_the_tag_is_exactly_20_characters():
    tag = order_tag(LARGEST_ORDER_ID_IN_A_FIRST_ATTEMPT_TAG, "tp", 1)

    assert tag == "M" + "z" * 17 + "T1"
    assert len(tag) == MAX_TAG_LENGTH == 20


def test_given_an_order_id_one_digit_too_long_when_tagged_then_the_21_character_tag_is_refused():
    with pytest.raises(ValueError, match=r"^tag 'M1" + "0" * 17 + r"T1' is longer than 20 characters$"):
        order_tag(LARGEST_ORDER_ID_IN_A_FIRST_ATTEMPT_TAG + 1, "tp", 1)


def test_given_a_20_character_tag_of_ours_when_parsed_then_it_is_recognised():
    assert parse_tag("M" + "z" * 17 + "T1") == (LARGEST_ORDER_ID_IN_A_FIRST_ATTEMPT_TAG, "tp", 1)


def test_given_a_21_character_tag_in_our_shape_when_parsed_then_it_is_not_ours():
    assert parse_tag("M" + "z" * 18 + "T1") is None


@pytest.mark.parametrize("foreign", [None, "", "123abc", "MS1", "M12S", "Mabc", "M1S2T3", "X2n9cS1", "M" * 21])
def test_tags_of_others_are_not_mistaken_for_ours(foreign):
    assert parse_tag(foreign) is None


@pytest.mark.parametrize("foreign", ["M2N9CS1", "M2n9cs1", "M2n9c-S1", "M2n9cS1 "])
def test_given_a_tag_with_characters_outside_lower_case_base36_when_parsed_then_it_is_not_ours(foreign):
    assert parse_tag(foreign) is None


def test_given_attempt_1_when_tagged_then_it_is_accepted_as_the_first_attempt():
    assert order_tag(7, "sl", 1) == "M7S1"


@pytest.mark.parametrize("attempt", [0, -1])
def test_given_an_attempt_below_1_when_tagged_then_it_is_refused_saying_attempts_count_from_1(attempt):
    with pytest.raises(ValueError, match=rf"^attempts count from 1, got {attempt}$"):
        order_tag(1, "sl", attempt)


def test_given_a_negative_order_id_when_tagged_then_it_is_refused_naming_the_number():
    with pytest.raises(ValueError, match=r"^cannot tag a negative number: -1$"):
        order_tag(-1, "sl", 1)
