"""Properties of the shared validators: every value in range passes, every value outside fails with the prop named."""

from __future__ import annotations

import math

import pytest
from aws_cdk import Duration, Token
from hypothesis import given
from hypothesis import strategies as st

from decoupling_constructs import _validate as v

queue_name_chars = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"), min_size=1
)


@given(st.integers(min_value=0, max_value=20))
def test_duration_in_range_passes(seconds: int) -> None:
    v.check_duration("wait", Duration.seconds(seconds), minimum=0, maximum=20, allowed="0-20 seconds")


@given(st.integers(min_value=21, max_value=10**7))  # Duration itself refuses negative amounts
def test_duration_out_of_range_fails_naming_prop_and_value(seconds: int) -> None:
    with pytest.raises(ValueError, match=rf"^wait must be 0-20 seconds, got {seconds} seconds$"):
        v.check_duration("wait", Duration.seconds(seconds), minimum=0, maximum=20, allowed="0-20 seconds")


@given(st.integers(min_value=1, max_value=1000))
def test_int_in_range_passes(value: int) -> None:
    v.check_int("max_receive_count", value, minimum=1, maximum=1000)


@given(st.integers().filter(lambda n: not 1 <= n <= 1000))
def test_int_out_of_range_fails(value: int) -> None:
    with pytest.raises(ValueError, match=rf"max_receive_count must be 1-1000, got {value}$"):
        v.check_int("max_receive_count", value, minimum=1, maximum=1000)


def test_tokens_pass_every_check() -> None:
    number = Token.as_number({"Ref": "N"})
    v.check_int("n", number, minimum=1, maximum=2)
    v.check_duration("d", Duration.seconds(number), minimum=0, maximum=1, allowed="0-1 seconds")
    v.check_queue_name("queue_name", Token.as_string({"Ref": "Name"}), fifo=True)


@given(queue_name_chars.filter(lambda s: len(s) <= 80))
def test_valid_standard_names_pass(name: str) -> None:
    v.check_queue_name("queue_name", name, fifo=False)


@given(queue_name_chars.filter(lambda s: len(s) <= 75))
def test_valid_fifo_names_pass(base: str) -> None:
    v.check_queue_name("queue_name", base + ".fifo", fifo=True)


@given(
    st.text(min_size=1, max_size=40).filter(lambda s: any(not (c.isascii() and (c.isalnum() or c in "-_")) for c in s))
)
def test_names_with_other_characters_fail(name: str) -> None:
    with pytest.raises(ValueError, match="queue_name"):
        v.check_queue_name("queue_name", name, fifo=False)


@given(st.integers(min_value=81, max_value=300))
def test_names_over_80_characters_fail(length: int) -> None:
    with pytest.raises(ValueError, match=f"at most 80 characters, got {length}"):
        v.check_queue_name("queue_name", "q" * length, fifo=False)


@pytest.mark.parametrize("value", [math.nan, math.inf, -1, "3", None, True])
def test_check_number_rejects_non_finite_negative_and_non_numbers(value: object) -> None:
    with pytest.raises(ValueError, match="write_mib_per_s must be"):
        v.check_number("write_mib_per_s", value)  # type: ignore[arg-type]


def test_exclusive_and_one_of() -> None:
    v.check_exclusive(shard_count=None, expected_throughput=None)
    v.check_exclusive(shard_count=2, expected_throughput=None)
    with pytest.raises(ValueError, match="give only one of shard_count, expected_throughput"):
        v.check_exclusive(shard_count=2, expected_throughput=object())
    v.check_one_of("engine", "ACTIVEMQ", ["ACTIVEMQ", "RABBITMQ"])
    with pytest.raises(ValueError, match="engine must be one of 'ACTIVEMQ', 'RABBITMQ', got 'KAFKA'"):
        v.check_one_of("engine", "KAFKA", ["ACTIVEMQ", "RABBITMQ"])


@pytest.mark.parametrize("name", ["jobs\n", "orders\n.fifo"])
def test_a_trailing_newline_is_not_a_valid_name(name: str) -> None:
    """Found by hypothesis on Python 3.12: ``$`` in the name pattern matched before a final newline."""
    with pytest.raises(ValueError, match="may contain only letters"):
        v.check_queue_name("queue_name", name, fifo=name.endswith(".fifo"))


@given(st.one_of(st.integers(min_value=-50, max_value=50), st.floats(), st.booleans(), st.text(max_size=2)))
def test_check_count_accepts_exactly_whole_numbers_in_range(value: object) -> None:
    """The run-time helpers' integer check (the engine's Int; no aws-cdk-lib needed): ints 1-16 pass, anything else
    fails naming the prop; a value of the wrong type is a PropTypeError (a TypeError and a ValueError)."""
    if type(value) is int and 1 <= value <= 16:
        assert v.check_count("receive_concurrency", value, minimum=1, maximum=16) == value
        return
    if type(value) is int:
        with pytest.raises(ValueError, match=rf"^receive_concurrency must be 1-16, got {value}$"):
            v.check_count("receive_concurrency", value, minimum=1, maximum=16)
        return
    with pytest.raises(v.PropTypeError, match=r"^receive_concurrency must be a whole number from 1 to 16, got "):
        v.check_count("receive_concurrency", value, minimum=1, maximum=16)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_check_number_with_a_maximum(value: float) -> None:
    if math.isfinite(value) and 0 <= value <= 5:
        assert v.check_number("delete_delay", value, minimum=0, maximum=5) == value
    else:
        with pytest.raises(ValueError, match=r"^delete_delay must be a number from 0 to 5, got "):
            v.check_number("delete_delay", value, minimum=0, maximum=5)


def test_validating_helper_names_the_class_once() -> None:
    """The innermost helper names the class; an outer one does not prefix it again."""
    with (
        pytest.raises(v.PropTypeError, match=r"^QueueConsumer: receive_concurrency must be .* got '2'$"),
        v.validating_helper("Outer"),
        v.validating_helper("QueueConsumer"),
    ):
        v.check_count("receive_concurrency", "2", minimum=1, maximum=16)
