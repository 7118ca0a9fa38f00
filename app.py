#!/usr/bin/env python3
"""The reference CDK app: one stack per pattern, cdk-nag AwsSolutions checks on."""

from stacks import build_reference_app

app, _ = build_reference_app()
app.synth()
