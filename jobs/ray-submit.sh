#!/usr/bin/env bash
# Submit the nightly run to a Ray cluster as a Ray job (https://docs.ray.io/en/latest/cluster/running-applications/job-submission/).
#
#   jobs/ray-submit.sh CONFIG [summarizer run options]
#
# The entrypoint runs on the head node, where the project must be installed at
# the same path as here (SUMMARIZER_HOME) with the `ray` extra; workers need the
# models locally or on shared storage. Inputs, outputs and reports must be on
# storage the head node sees at the paths the config names.
# RAY_JOB_ADDRESS: the cluster's dashboard address (default http://127.0.0.1:8265).
# Like nightly.sh it prints nothing when the job succeeds (cron mails only
# failures) and the job's whole output when it fails. Exit code: 0 when the job
# succeeded, 1 when it failed (ray job submit does not pass the exit code of
# `summarizer run` on; the output printed on failure ends with it). Stopping this
# script does not stop the job: use `ray job stop ID`.
set -uo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 CONFIG [summarizer run options]" >&2
    exit 2
fi
config=$(realpath "$1") || exit 2
shift
home=${SUMMARIZER_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
venv=${SUMMARIZER_VENV:-$home/.venv}
address=${RAY_JOB_ADDRESS:-http://127.0.0.1:8265}

if [ ! -x "$venv/bin/ray" ]; then
    echo "ray-submit.sh: $venv/bin/ray not found; install the ray extra (make install EXTRAS=ray) or set SUMMARIZER_VENV" >&2
    exit 78
fi

output=$(mktemp "${TMPDIR:-/tmp}/summarizer-ray-job.XXXXXX") || exit 75
trap 'rm -f "$output"' EXIT
id="summarizer-$(date +%Y%m%d-%H%M%S)"
"$venv/bin/ray" job submit \
    --address "$address" \
    --submission-id "$id" \
    --runtime-env-json '{"env_vars": {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}}' \
    -- bash -c '"$0" "$@"; code=$?; echo "summarizer run exit code: $code"; exit $code' \
    "$venv/bin/summarizer" run -c "$config" --executor ray --ray-address auto "$@" >"$output" 2>&1
code=$?
if [ "$code" -ne 0 ]; then
    {
        echo "summarizer Ray job $id failed (config: $config, cluster: $address)"
        cat "$output"
    } >&2
fi
exit "$code"
