"""The reference app's render jobs: the code QueueWorkersStack ships to its workers (worker_code)."""
