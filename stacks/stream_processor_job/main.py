"""PLACEHOLDER for the reference Flink job (issue 23 §2, branch helper/flink-job, directory stacks/flink_job/): the
reference StreamProcessor stack ships this directory as its code asset until that job is merged. It reads the
property groups StreamProcessor renders and prints them; it runs no Flink pipeline."""

import json
from pathlib import Path

APPLICATION_PROPERTIES = Path("/etc/flink/application_properties.json")


def main() -> None:
    groups = json.loads(APPLICATION_PROPERTIES.read_text()) if APPLICATION_PROPERTIES.exists() else []
    print({g["PropertyGroupId"]: sorted(g["PropertyMap"]) for g in groups})


if __name__ == "__main__":
    main()
