"""The start-after-deploy custom resource's handler (inline in the template): StartApplication once the application
exists, idempotent. It uses botocore only (in every Lambda Python runtime), and answers CloudFormation itself."""

import json
import urllib.request
from typing import Any

import botocore.session


def handler(event: dict[str, Any], context: object) -> None:
    status, reason = "SUCCESS", ""
    data: dict[str, str] = {}
    try:
        props = event["ResourceProperties"]
        if event["RequestType"] in ("Create", "Update"):
            client = botocore.session.get_session().create_client("kinesisanalyticsv2")
            try:
                client.start_application(
                    ApplicationName=props["ApplicationName"], RunConfiguration=json.loads(props["RunConfiguration"])
                )
                data["Started"] = "true"
            except client.exceptions.ResourceInUseException as error:  # STARTING or RUNNING already: nothing to do
                data["Started"] = "already " + str(error)[:200]
            described = client.describe_application(ApplicationName=props["ApplicationName"])
            data["Status"] = described["ApplicationDetail"]["ApplicationStatus"]
    except Exception as error:  # CloudFormation must hear back, or the stack waits an hour
        status, reason = "FAILED", str(error)[:500]
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or "see the function's log",
            "PhysicalResourceId": event.get("PhysicalResourceId") or event["LogicalResourceId"],
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""})
    urllib.request.urlopen(request, timeout=30)  # CloudFormation's presigned https URL
