"""Render jobs: the code the QueueWorkers sample ships to its instances (worker_code)."""
