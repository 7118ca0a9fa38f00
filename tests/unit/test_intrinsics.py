"""The intrinsic-function evaluator behind the moto test helper: pure, no AWS, no moto."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decoupling_constructs.testing._intrinsics import ResolveContext, UnresolvedReference, resolve

REGION = "eu-west-1"
ACCOUNT = "111122223333"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/jobs"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"


class FakeGetAtt:
    """Records each call and answers ``<type>|<physical id>|<attribute>|<logical id>``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str]] = []

    def __call__(self, resource_type: str, physical_id: str, attribute: str, logical_id: str) -> str:
        self.calls.append((resource_type, physical_id, attribute, logical_id))
        return f"{resource_type}|{physical_id}|{attribute}|{logical_id}"


def make_ctx(
    *,
    conditions: dict[str, Any] | None = None,
    parameters: dict[str, str] | None = None,
    get_att: FakeGetAtt | None = None,
) -> ResolveContext:
    return ResolveContext(
        physical_ids={"Queue": QUEUE_URL, "Topic": TOPIC_ARN},
        resource_types={"Queue": "AWS::SQS::Queue", "Topic": "AWS::SNS::Topic", "Pending": "AWS::SNS::Topic"},
        parameters={"Env": "prod", "Size": "3"} if parameters is None else parameters,
        conditions=conditions or {},
        region=REGION,
        account=ACCOUNT,
        stack_name="MyStack",
        stack_id=f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/MyStack/abc",
        get_att=get_att or FakeGetAtt(),
    )


CTX = make_ctx()


# --- Ref -------------------------------------------------------------------------------------------------------------


def test_ref_resource_gives_its_physical_id() -> None:
    assert resolve({"Ref": "Queue"}, CTX) == QUEUE_URL
    assert resolve({"Ref": "Topic"}, CTX) == TOPIC_ARN


def test_ref_parameter_gives_its_value() -> None:
    assert resolve({"Ref": "Env"}, CTX) == "prod"


@pytest.mark.parametrize(
    ("pseudo", "expected"),
    [
        ("AWS::Region", REGION),
        ("AWS::AccountId", ACCOUNT),
        ("AWS::Partition", "aws"),
        ("AWS::URLSuffix", "amazonaws.com"),
        ("AWS::StackName", "MyStack"),
    ],
)
def test_ref_pseudo_parameters(pseudo: str, expected: str) -> None:
    assert resolve({"Ref": pseudo}, CTX) == expected


def test_ref_no_value_removes_the_key() -> None:
    value = {"Keep": "yes", "Drop": {"Ref": "AWS::NoValue"}, "Nested": {"Drop": {"Ref": "AWS::NoValue"}, "K": 1}}
    assert resolve(value, CTX) == {"Keep": "yes", "Nested": {"K": 1}}


def test_ref_no_value_removes_list_items() -> None:
    value = ["a", {"Ref": "AWS::NoValue"}, {"Ref": "Topic"}, {"Ref": "AWS::NoValue"}]
    assert resolve(value, CTX) == ["a", TOPIC_ARN]


def test_ref_unknown_logical_id_is_unresolved() -> None:
    with pytest.raises(UnresolvedReference, match="Nowhere"):
        resolve({"Properties": {"X": {"Ref": "Nowhere"}}}, CTX)


def test_unresolved_reference_is_a_lookup_error() -> None:
    assert issubclass(UnresolvedReference, LookupError)


# --- Fn::GetAtt ------------------------------------------------------------------------------------------------------


def test_get_att_list_form_calls_get_att_with_type_physical_id_attribute_and_logical_id() -> None:
    fake = FakeGetAtt()
    ctx = make_ctx(get_att=fake)
    assert resolve({"Fn::GetAtt": ["Queue", "Arn"]}, ctx) == f"AWS::SQS::Queue|{QUEUE_URL}|Arn|Queue"
    assert fake.calls == [("AWS::SQS::Queue", QUEUE_URL, "Arn", "Queue")]


def test_get_att_dotted_form_splits_at_the_first_dot_only() -> None:
    fake = FakeGetAtt()
    ctx = make_ctx(get_att=fake)
    assert resolve({"Fn::GetAtt": "Topic.TopicName"}, ctx) == f"AWS::SNS::Topic|{TOPIC_ARN}|TopicName|Topic"
    resolve({"Fn::GetAtt": "Topic.Endpoint.Address"}, ctx)
    assert fake.calls[-1] == ("AWS::SNS::Topic", TOPIC_ARN, "Endpoint.Address", "Topic")


@pytest.mark.parametrize("logical_id", ["Nowhere", "Pending"])  # Pending: known type, no physical id yet
def test_get_att_of_a_resource_without_physical_id_is_unresolved(logical_id: str) -> None:
    fake = FakeGetAtt()
    with pytest.raises(UnresolvedReference, match=logical_id):
        resolve({"Fn::GetAtt": [logical_id, "Arn"]}, make_ctx(get_att=fake))
    assert fake.calls == []


# --- Fn::Join, Fn::Select, Fn::Split ---------------------------------------------------------------------------------


def test_join_resolves_its_parts() -> None:
    value = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]}
    assert resolve(value, CTX) == f"arn:aws:iam::{ACCOUNT}:root"


def test_join_of_a_split() -> None:
    value = {"Fn::Join": ["-", {"Fn::Split": [",", "a,b,c"]}]}
    assert resolve(value, CTX) == "a-b-c"


def test_select_and_split() -> None:
    # The queue name is the last path segment of its URL.
    value = {"Fn::Select": [4, {"Fn::Split": ["/", {"Ref": "Queue"}]}]}
    assert resolve(value, CTX) == "jobs"
    assert resolve({"Fn::Select": ["1", ["x", {"Ref": "Env"}]]}, CTX) == "prod"
    assert resolve({"Fn::Select": [{"Ref": "Size"}, ["a", "b", "c", "d"]]}, CTX) == "d"


def test_split_resolves_its_source() -> None:
    assert resolve({"Fn::Split": [":", {"Ref": "Topic"}]}, CTX) == ["arn", "aws", "sns", REGION, ACCOUNT, "alerts"]


# --- Fn::Sub ---------------------------------------------------------------------------------------------------------


def test_sub_string_form() -> None:
    fake = FakeGetAtt()
    ctx = make_ctx(get_att=fake)
    value = {"Fn::Sub": "${Queue} ${Topic.TopicName} in ${AWS::Region}/${AWS::AccountId} env=${Env}"}
    topic_name = f"AWS::SNS::Topic|{TOPIC_ARN}|TopicName|Topic"  # what the fake get_att answers
    assert resolve(value, ctx) == f"{QUEUE_URL} {topic_name} in {REGION}/{ACCOUNT} env=prod"
    assert fake.calls == [("AWS::SNS::Topic", TOPIC_ARN, "TopicName", "Topic")]


def test_sub_literal_escape_is_kept_unsubstituted() -> None:
    assert resolve({"Fn::Sub": "${!Literal} and ${AWS::Region}"}, CTX) == f"${{Literal}} and {REGION}"
    assert resolve({"Fn::Sub": "${!Queue}"}, CTX) == "${Queue}"


def test_sub_list_form_variables_win_and_are_resolved() -> None:
    value = {
        "Fn::Sub": [
            "${Name}:${Queue}:${Arn}:${AWS::Partition}",
            {"Name": "fixed", "Queue": "shadowed", "Arn": {"Fn::Join": ["", ["x", {"Ref": "Env"}]]}},
        ]
    }
    assert resolve(value, CTX) == "fixed:shadowed:xprod:aws"


def test_sub_inserts_variable_values_literally() -> None:
    # A substituted value is not itself a template: its own "${!" must survive (a single pass, as CloudFormation).
    assert resolve({"Fn::Sub": ["${A}", {"A": "${!kept}"}]}, CTX) == "${!kept}"


def test_sub_unknown_variable_is_unresolved() -> None:
    with pytest.raises(UnresolvedReference, match="Missing"):
        resolve({"Fn::Sub": "x-${Missing}"}, CTX)
    with pytest.raises(UnresolvedReference, match="Missing"):
        resolve({"Fn::Sub": "x-${Missing.Arn}"}, CTX)


# --- Conditions ------------------------------------------------------------------------------------------------------

CONDITIONS = {
    "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
    "IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]},
    "NotDev": {"Fn::Not": [{"Condition": "IsDev"}]},
    "ProdInRegion": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": [{"Ref": "AWS::Region"}, REGION]}]},
    "ProdAndDev": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "IsDev"}]},
    "DevOrProd": {"Fn::Or": [{"Condition": "IsDev"}, {"Condition": "IsProd"}]},
    "DevOrUsEast": {"Fn::Or": [{"Condition": "IsDev"}, {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}]},
}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("IsProd", True),
        ("IsDev", False),
        ("NotDev", True),
        ("ProdInRegion", True),
        ("ProdAndDev", False),
        ("DevOrProd", True),
        ("DevOrUsEast", False),
    ],
)
def test_conditions(condition: str, expected: bool) -> None:
    ctx = make_ctx(conditions=CONDITIONS)
    assert ctx.condition(condition) is expected
    assert resolve({"Fn::If": [condition, "then", "else"]}, ctx) == ("then" if expected else "else")


def test_if_resolves_only_the_chosen_branch() -> None:
    ctx = make_ctx(conditions=CONDITIONS)
    # The other branch names a resource that does not exist: evaluating it would raise.
    assert resolve({"Fn::If": ["IsProd", {"Ref": "Topic"}, {"Ref": "Nowhere"}]}, ctx) == TOPIC_ARN
    assert resolve({"Fn::If": ["IsDev", {"Ref": "Nowhere"}, {"Ref": "Queue"}]}, ctx) == QUEUE_URL


def test_if_with_no_value_removes_the_key_or_item() -> None:
    ctx = make_ctx(conditions=CONDITIONS)
    value = {
        "A": {"Fn::If": ["IsDev", "dev-only", {"Ref": "AWS::NoValue"}]},
        "B": ["x", {"Fn::If": ["IsDev", "y", {"Ref": "AWS::NoValue"}]}],
    }
    assert resolve(value, ctx) == {"B": ["x"]}


def test_conditions_follow_parameters() -> None:
    ctx = make_ctx(conditions=CONDITIONS, parameters={"Env": "dev"})
    assert ctx.condition("IsDev") is True
    assert ctx.condition("NotDev") is False
    assert ctx.condition("ProdInRegion") is False


# --- Unsupported -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("intrinsic", ["Fn::Cidr", "Fn::ImportValue", "Fn::Base64", "Fn::FindInMap"])
def test_unsupported_intrinsic_is_named(intrinsic: str) -> None:
    with pytest.raises(NotImplementedError, match=intrinsic):
        resolve({"Outer": {intrinsic: ["10.0.0.0/16", 2, 8]}}, CTX)


# --- Properties ------------------------------------------------------------------------------------------------------

TEXT = st.text(max_size=20)


@given(delimiter=TEXT, parts=st.lists(TEXT, max_size=8))
def test_join_equals_str_join(delimiter: str, parts: list[str]) -> None:
    assert resolve({"Fn::Join": [delimiter, parts]}, CTX) == delimiter.join(parts)


@given(text=st.text(alphabet=st.characters(blacklist_characters="$"), max_size=40))
def test_sub_without_variables_is_the_identity(text: str) -> None:
    assert resolve({"Fn::Sub": text}, CTX) == text


# Keys never start an intrinsic: no ":" (so no "Fn::..."), and never "Ref" or "Condition".
KEYS = st.text(alphabet=string.ascii_letters + string.digits + "_-.", min_size=1, max_size=12).filter(
    lambda key: key not in {"Ref", "Condition"}
)
# JSON without null: CloudFormation has no null, and resolve() treats None as AWS::NoValue.
PLAIN_JSON = st.recursive(
    st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=20,
)


@given(value=PLAIN_JSON)
def test_plain_json_resolves_to_itself(value: Any) -> None:
    assert resolve(value, CTX) == value
