"""Subnet selection shared by the constructs that run inside a VPC (MessageBroker, QueueWorkers)."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2


def private_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection | None, *, what: str) -> list[ec2.ISubnet]:
    """The subnets of ``selection``, default the VPC's private ones (with egress, else isolated).

    A selection that is empty or holds a public subnet is refused: ``what`` (e.g. "a MessageBroker") is
    private, reachable only from inside the VPC.
    """
    if selection is not None:
        candidates = list(
            vpc.select_subnets(
                availability_zones=selection.availability_zones,
                one_per_az=selection.one_per_az,
                subnet_filters=selection.subnet_filters,
                subnet_group_name=selection.subnet_group_name,
                subnets=selection.subnets,
                subnet_type=selection.subnet_type,
            ).subnets
        )
    else:
        candidates = []
        for subnet_type in (ec2.SubnetType.PRIVATE_WITH_EGRESS, ec2.SubnetType.PRIVATE_ISOLATED):
            try:
                candidates = list(vpc.select_subnets(subnet_type=subnet_type).subnets)
            except RuntimeError:  # jsii's error when the VPC has no subnets of that type
                continue
            if candidates:
                break
    public = {subnet.subnet_id for subnet in vpc.public_subnets}
    if not candidates or any(subnet.subnet_id in public for subnet in candidates):
        raise ValueError(
            f"vpc_subnets must select private subnets (PRIVATE_WITH_EGRESS or PRIVATE_ISOLATED): {what} is "
            f"private; got {len(candidates)} subnet(s), {sum(s.subnet_id in public for s in candidates)} of them "
            "public"
        )
    return candidates
