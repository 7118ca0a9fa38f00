"""The example's render jobs: the code examples/queue_workers_app.py ships to its workers (worker_code)."""
