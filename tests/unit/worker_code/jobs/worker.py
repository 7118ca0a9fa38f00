"""A QueueWorkers handler for the template tests (the bundle carries this directory's contents)."""


def handle(message: dict) -> None:
    """Fail a message whose body is "poison"; accept any other."""
    if message["Body"] == "poison":
        raise ValueError("poison message")
