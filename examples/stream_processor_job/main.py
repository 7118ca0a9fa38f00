# A stand-in entry point for examples/stream_processor_app.py (the reference job is stacks/flink_job/main.py).
print("job")
