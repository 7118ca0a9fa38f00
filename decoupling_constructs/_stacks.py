"""Which stack each piece of cross-stack wiring goes in: one rule for every construct of the library.

A resource of stack A that names a resource of stack B (a token in one of its properties) makes A depend on
B; when B already depends on A, ``app.synth()`` fails with aws-cdk-lib's ``DependencyCycle``. So, before a
construct names a resource given by the user, :func:`use` refuses the call when the resource's stack
depends on the construct's (naming both stacks and the way out), and records the new dependency
(``Stack.add_stack_dependency``) so the next decision sees it. Wiring that may live on either side (an SNS
subscription of a queue, a function, a delivery stream of another stack) is placed by :func:`place`: beside
the resource, as aws-cdk-lib's ``SqsSubscription`` and ``LambdaSubscription`` do, unless the construct's
stack already depends on the resource's, in which case it stays in the construct's stack and the resource's
policy names the construct by an ARN built from a name (no token, so no dependency back).

What is known at the call: the stack dependencies recorded so far (``Stack.add_dependency``, those
aws-cdk-lib's subscriptions record, those this module records), and the stacks that an ARN's tokens name,
read with ``Tokenization.reverse_string`` without resolving anything (resolving before synthesis would freeze
the cached ``Lazy`` values of the L2s). A reference made elsewhere by the user's own code is only found at
synthesis; declare it first with ``stack.add_dependency(other)`` and the library places its wiring around it.

A resource of another App or Stage cannot be named at all (its stack is synthesized elsewhere): refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Reference, Stack, Stage, Tokenization
from constructs import Construct, IConstruct


def describe(stack: Stack) -> str:
    return repr(stack.node.path)


def check_same_app(owner: Construct, resource: IConstruct, prop: str) -> None:
    """``resource`` belongs to ``owner``'s App and Stage: another's stacks are synthesized elsewhere, so
    a reference to them can never be resolved (jsii's raw ``NoCrossStageDependency``, or wiring that is
    silently left out of the synthesized App)."""
    if resource.node.root is not owner.node.root:
        raise ValueError(
            f"{prop} {resource.node.path!r} belongs to another App than this construct's: an App synthesizes "
            "only its own stacks, so the wiring would be lost or fail. Create it in this App, or import it into "
            "a stack of this App by its ARN (e.g. sqs.Queue.from_queue_arn, lambda_.Function.from_function_arn)"
        )
    if Stage.of(resource) is not Stage.of(owner):
        raise ValueError(
            f"{prop} {resource.node.path!r} is in Stage {_stage_path(resource)!r}, this construct in Stage "
            f"{_stage_path(owner)!r}: stacks of two Stages cannot reference each other. Create it in the same "
            "Stage, or import it by its ARN"
        )


def _stage_path(construct: IConstruct) -> str:
    stage = Stage.of(construct)
    return stage.node.path if stage is not None and stage.node.path else "<the App>"


def stacks_named_by(value: str | None) -> list[Stack]:
    """The stacks whose resources the tokens of ``value`` (an ARN, a name) refer to, in order, without resolving
    them: an ARN written out (an imported resource) names none."""
    if value is None:
        return []
    found: list[Stack] = []
    for token in Tokenization.reverse_string(value).tokens:
        if isinstance(token, Reference):
            stack = Stack.of(token.target)
            if stack not in found:
                found.append(stack)
    return found


def dependency_path(consumer: Stack, producer: Stack) -> list[Stack] | None:
    """``[consumer, ..., producer]`` when ``consumer`` depends on ``producer`` through the stack dependencies
    known now (see the module's docstring), else None."""
    parents: dict[int, Stack | None] = {id(consumer): None}
    queue = [consumer]
    while queue:
        stack = queue.pop(0)
        if stack is producer:
            path = [stack]
            while (parent := parents[id(path[-1])]) is not None:
                path.append(parent)
            return path[::-1]
        for dependency in stack.dependencies:
            if id(dependency) not in parents:
                parents[id(dependency)] = stack
                queue.append(dependency)
    return None


def _chain(path: list[Stack]) -> str:
    return " -> ".join(describe(s) for s in path)


def record(consumer: Stack, producer: Stack, reason: str) -> None:
    """Record that ``consumer`` depends on ``producer`` (it will name one of its resources), so later
    decisions see it. The reference would add the same dependency at synthesis. Nested stacks are left to
    aws-cdk-lib, which lifts their dependencies to their parents."""
    if consumer is producer or consumer.nested or producer.nested or producer in consumer.dependencies:
        return
    if dependency_path(producer, consumer) is not None:  # a cycle of the user's own: aws-cdk-lib reports it
        return
    add = getattr(consumer, "add_stack_dependency", None)  # aws-cdk-lib 2.270+; add_dependency before
    if add is None:
        consumer.add_dependency(producer, reason)
    else:
        add(producer, reason=reason)


def use(owner: Construct, resource: IConstruct, arn: str | None, prop: str, *, way_out: str | None = None) -> None:
    """``owner`` is about to name ``resource`` (by ``arn``) from its own stack: refuse when the resource's stack
    depends on ``owner``'s (a cycle), else record the dependency. ``way_out`` ends the error: what to do
    (default: build ``owner`` downstream, or the resource upstream)."""
    ours = Stack.of(owner)
    homes = [s for s in stacks_named_by(arn) if s is not ours]
    if not homes:  # the common case, kept cheap: same stack, or an ARN written out
        if resource.node.root is not owner.node.root:
            check_same_app(owner, resource, prop)
        return
    check_same_app(owner, resource, prop)
    _learn(resource, arn)
    for home in homes:
        back = dependency_path(home, ours)
        if back is not None:
            raise ValueError(
                f"{prop} {resource.node.path!r} is in stack {describe(home)}, which depends on this construct's "
                f"stack {describe(ours)} ({_chain(back)}); naming it from {describe(ours)} would make "
                f"{describe(ours)} depend on {describe(home)} too, a dependency cycle. "
                + (
                    way_out
                    or f"Build this construct in a stack that {describe(home)} does not depend on, or create {prop} "
                    f"in {describe(ours)} or in a stack {describe(ours)} may depend on (e.g. a shared stack that "
                    "depends on neither)."
                )
            )
        record(ours, home, f"{owner.node.path} uses {prop} {resource.node.path}")


def name_value(owner: Construct, placed_in: Stack, value: str | None, prop: str, *, way_out: str) -> None:
    """A value given as a string (e.g. a ``source_arn``) goes into a policy of ``placed_in``: refuse when it
    names (by a token) a resource of a stack that depends on ``placed_in``, else record the dependency."""
    if value is not None:  # what the L2s behind the tokens say of their stacks (their keys)
        for token in Tokenization.reverse_string(value).tokens:
            if isinstance(token, Reference) and token.target.node.scope is not None:
                l2 = token.target.node.scope
                _learn(l2, getattr(token.target, "ref", None))
    for home in stacks_named_by(value):
        if home is placed_in:
            continue
        back = dependency_path(home, placed_in)
        if back is not None:
            raise ValueError(
                f"{prop} names a resource of stack {describe(home)}, which depends on stack {describe(placed_in)} "
                f"({_chain(back)}), where {prop} is written; {describe(placed_in)} would depend on "
                f"{describe(home)} too, a dependency cycle. {way_out}"
            )
        record(placed_in, home, f"{owner.node.path} writes {prop} in {placed_in.node.path}")


def place(owner: Construct, resource: IConstruct, arn: str | None, prop: str, *, way_out: str) -> Stack:
    """The stack for wiring that names both ``owner``'s resources and ``resource`` (e.g. a subscription of
    ``resource`` to ``owner``'s topic): ``resource``'s stack (recorded as depending on ``owner``'s), unless
    ``owner``'s stack already depends on it, or ``resource`` is imported, or lives apart from what its ARN
    names: then ``owner``'s stack, after :func:`use`. The caller must keep the wiring's statements on
    ``resource`` free of tokens of ``owner``'s stack when the answer is ``owner``'s stack."""
    ours = Stack.of(owner)
    homes = [s for s in stacks_named_by(arn) if s is not ours]
    check_same_app(owner, resource, prop)
    if homes:
        _learn(resource, arn)
    if len(homes) != 1 or Stack.of(resource) is not homes[0] or dependency_path(ours, homes[0]) is not None:
        use(owner, resource, arn, prop, way_out=way_out)
        return ours
    record(homes[0], ours, f"{owner.node.path} wires {prop} {resource.node.path}")
    return homes[0]


# The attribute that names each kind of resource the constructs take (the first one it has), and the
# attributes that hold the customer-managed key it is encrypted with.
_NAMING_ATTRIBUTES = (
    "queue_arn",
    "stream_arn",
    "bucket_arn",
    "topic_arn",
    "function_arn",
    "delivery_stream_arn",
    "key_arn",
    "vpc_id",
)
_KEY_ATTRIBUTES = ("encryption_master_key", "encryption_key")


def _key_of(resource: IConstruct) -> IConstruct | None:
    return next((k for a in _KEY_ATTRIBUTES if (k := getattr(resource, a, None)) is not None), None)


def _learn(resource: IConstruct, arn: str | None) -> None:
    """Record what the L2 ``resource`` itself says of its stack without resolving anything: its stack names
    the customer-managed key it is encrypted with (e.g. a queue of one stack, its key in another)."""
    key = _key_of(resource)
    if key is None or key is resource or stacks_named_by(arn) != [Stack.of(resource)]:
        return  # no key, or an imported resource: its stack names nothing
    for home in stacks_named_by(getattr(key, "key_arn", None)):
        record(Stack.of(resource), home, f"{resource.node.path} is encrypted with {key.node.path}")


def use_each(owner: Construct, resources: Mapping[str, IConstruct | None]) -> None:
    """:func:`use` for each resource given (prop -> resource; None skipped) and for the customer-managed key
    it is encrypted with, which ``owner``'s grants name too."""
    for prop, resource in resources.items():
        if resource is None:
            continue
        arn = next((getattr(resource, a) for a in _NAMING_ATTRIBUTES if hasattr(resource, a)), None)
        use(owner, resource, arn, prop)
        key = _key_of(resource)
        if key is not None and key is not resource:
            use(owner, key, getattr(key, "key_arn", None), f"the key of {prop}")
