"""Sizing a Kinesis stream: decoupling_constructs.capacity (imports no aws-cdk-lib). The comments are its output."""

from decoupling_constructs.capacity import describe

print(describe(0.95, 5000))  # 5,000 events/s of ~200 bytes
# 5 shards, limited by write records/s (write MiB/s: 1, write records/s: 5, read MiB/s: 1)
print(describe(3.0, 2000, consumers=4))  # four applications each read the whole stream
# 6 shards, limited by read MiB/s (write MiB/s: 3, write records/s: 2, read MiB/s: 6)
print(describe(3.0, 2000, consumers=4, enhanced_fan_out=True))
# 3 shards, limited by write MiB/s (write MiB/s: 3, write records/s: 2, read MiB/s: 2)
