#!/usr/bin/env bash
# Nightly wrapper for cron and systemd.
#
#   jobs/nightly.sh CONFIG [more `summarizer run` options]
#
# Activates the project's virtualenv, runs `summarizer run` offline (models come
# from the local cache: run `summarizer fetch -c CONFIG` once when connected),
# appends everything to a size-rotated log, and passes the exit code through.
# It prints nothing when the run succeeds, so cron mails only when something
# went wrong (the run's output is then printed too).
#
# Environment (all optional):
#   SUMMARIZER_HOME           project folder (default: the folder above this script)
#   SUMMARIZER_VENV           virtualenv (default: $SUMMARIZER_HOME/.venv)
#   SUMMARIZER_LOG            log file (default: $SUMMARIZER_HOME/logs/nightly.log)
#   SUMMARIZER_LOG_MAX_BYTES  rotate when the log is this big (default: 10485760)
#   SUMMARIZER_LOG_KEEP       rotated logs kept: nightly.log.1 ... .N (default: 8)
set -uo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 CONFIG [summarizer run options]" >&2
    exit 2
fi
config=$1
shift
home=${SUMMARIZER_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
venv=${SUMMARIZER_VENV:-$home/.venv}
log=${SUMMARIZER_LOG:-$home/logs/nightly.log}
max_bytes=${SUMMARIZER_LOG_MAX_BYTES:-10485760}
keep=${SUMMARIZER_LOG_KEEP:-8}

mkdir -p "$(dirname "$log")" || exit 75
if [ -f "$log" ] && [ "$(stat -c %s "$log")" -ge "$max_bytes" ]; then
    for ((i = keep - 1; i >= 1; i--)); do
        if [ -f "$log.$i" ]; then mv -f "$log.$i" "$log.$((i + 1))"; fi
    done
    mv -f "$log" "$log.1"
fi

if [ ! -x "$venv/bin/summarizer" ]; then
    echo "nightly.sh: $venv/bin/summarizer not found; run 'make install' in $home or set SUMMARIZER_VENV" >&2
    exit 78
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

# The run's own output, to mail it when the run fails: in TMPDIR, else beside the log (an
# unusable TMPDIR must not stop the night before the job can record anything).
run_log=$(mktemp "${TMPDIR:-/tmp}/summarizer-nightly.XXXXXX" 2>/dev/null) ||
    run_log=$(mktemp "$(dirname "$log")/.summarizer-nightly.XXXXXX") || exit 75
trap 'rm -f "$run_log"' EXIT
echo "=== $(date -Is) start: summarizer run -c $config $*" >>"$log"
if [ -n "${TMPDIR:-}" ] && [ "$(dirname "$run_log")" != "${TMPDIR%/}" ]; then
    echo "nightly.sh: TMPDIR $TMPDIR is not usable; the run's output went to $run_log" >>"$log"
    export TMPDIR=$(dirname "$run_log")
fi

summarizer run -c "$config" "$@" >"$run_log" 2>&1 &
pid=$!
# Pass a stop request on to the run, which then finishes cleanly (exit 143/130/129).
trap 'kill -TERM "$pid" 2>/dev/null' TERM
trap 'kill -INT "$pid" 2>/dev/null' INT
trap 'kill -HUP "$pid" 2>/dev/null' HUP
wait "$pid"
code=$?
if kill -0 "$pid" 2>/dev/null; then
    wait "$pid"
    code=$?
fi

cat "$run_log" >>"$log"
echo "=== $(date -Is) end: exit code $code" >>"$log"
if [ "$code" -ne 0 ]; then
    {
        echo "summarizer nightly run failed with exit code $code (config: $config, log: $log)"
        cat "$run_log"
    } >&2
fi
exit "$code"
