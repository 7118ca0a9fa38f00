"""The real `cdk deploy` of your app into MiniStack on 127.0.0.1, then every resource read back and compared.

Needs the CDK CLI (`npm install aws-cdk@…` in your project, see the README) and MiniStack in an environment of its
own (`pipx install ministack==1.5.33`, then MINISTACK_PYTHON=<that environment's python>). Run with pytest.
"""

from pathlib import Path

import aws_cdk as cdk
from reliable_queue_app import QueuesStack

from decoupling_constructs.testing import cdk_deploy, ministack, verify


def test_queues_deploy_and_match_their_template(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = QueuesStack(app, "Queues")
    assembly = app.synth()
    template = assembly.get_stack_artifact(stack.artifact_id).template

    with ministack(log_file=tmp_path / "ministack.log") as emulator:  # or moto_server()
        cdk_deploy(Path(assembly.directory), ["Queues"], emulator)  # cdk bootstrap, then cdk deploy
        deployment = emulator.deployment("Queues", template)  # a Deployment, as with deploy_to_moto
        report = verify(deployment)  # raises VerificationError on a mismatch
        print(report.summary())
        assert deployment.outputs["OrdersQueueUrl"].endswith(".fifo")
