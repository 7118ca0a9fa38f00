#!/usr/bin/env bash
# Debian packages the test suite needs beyond Python: ActiveMQ (two brokers on 127.0.0.1 for the
# active/standby failover check) and a JDK to compile its JMS client. Idempotent: installs only
# what is missing. Needs root (CI and the project's machines run as root).
set -euo pipefail
missing=()
[ -f /usr/share/activemq/bin/activemq.jar ] || missing+=(activemq)
command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}; run as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
