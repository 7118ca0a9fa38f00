#!/usr/bin/env bash
# Run the active/standby failover check (tests/brokers) N times in a row on two local ActiveMQ
# brokers (127.0.0.1), printing each run's outcome and a summary. Exits non-zero if any run lost a
# message, handled one twice after a successful commit, left one in the queue or failed.
# Usage: scripts/soak-failover.sh N [--keep DIR]   (the brokers' and client's logs stay in DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
  echo "usage: $0 N [--keep DIR]" >&2
  exit 2
fi
python=.venv/bin/python
[ -x "$python" ] || python=python3
exec "$python" -m tests.brokers.failover "$@"
