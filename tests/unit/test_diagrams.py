"""The README's reference-stack diagrams are what scripts/diagrams.py makes from the templates now."""

from __future__ import annotations

from scripts.diagrams import README, mermaid, readme_section, replace_section


def test_readme_diagrams_are_current(reference_templates: dict[str, dict]) -> None:
    readme = README.read_text()
    assert replace_section(readme, readme_section(reference_templates)) == readme, "run `make diagrams`"


def test_diagram_edges_follow_references_and_leave_out_noise() -> None:
    template = {
        "Resources": {
            "TopicAB12CD34": {"Type": "AWS::SNS::Topic"},
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Sub": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {"TopicArn": {"Ref": "TopicAB12CD34"}, "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]}},
                "DependsOn": ["Queue"],
            },
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmActions": [{"Ref": "TopicAB12CD34"}]}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"Name": {"Fn::Sub": "${Queue.QueueName}-role"}}},
        }
    }
    assert mermaid(template).splitlines() == [
        "flowchart LR",
        '  Queue["Queue<br/>SQS::Queue"]',
        '  Role["Role<br/>IAM::Role"]',
        '  Sub["Sub<br/>SNS::Subscription"]',
        '  TopicAB12CD34["Topic<br/>SNS::Topic"]',
        "  Role -->|Name| Queue",
        "  Sub -->|DependsOn| Queue",
        "  Sub -->|Endpoint| Queue",
        "  Sub -->|TopicArn| TopicAB12CD34",
    ]
