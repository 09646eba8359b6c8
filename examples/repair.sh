#!/bin/sh
# Look before running, repair by hand, catch up on missed days: plan, mark, backfill.
# Needs a daemon on this folder: `taskflow demo` in another terminal, or TASKFLOW_SOCKET
# pointing at one. Writes only what the tasks write under ${TMPDIR:-/tmp}/taskflow-demo.
set -eu

# What would a trigger run? The tree in waves, what is skipped and why (disabled, run_if),
# pools, timeouts and retries. Nothing starts; `--json` for scripts.
taskflow plan rotate-certs
taskflow plan deploy -p version=1.4.3

# rotate-certs fails at `upload` (exit 3: a run did not succeed); `reload` is skipped.
taskflow run rotate-certs --wait || true
upload=$(taskflow runs --task rotate-certs/upload --state failed --limit 1 --json |
         python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')

# Done by hand: mark it succeeded, with why. Its skipped dependents run now; the run keeps
# who marked it, why and what it was (`show`: "marked succeeded by ... (was failed)").
taskflow mark "$upload" succeeded --reason "uploaded by hand: HSM offline"
taskflow show "$upload"

# The daily export's last three days, one run per slot, oldest first, one after another;
# each exports the day of its slot ($TASKFLOW_SCHEDULED_AT), not today.
taskflow backfill daily-export --from "$(date -u -d '3 days ago' +%F)" --to "$(date -u +%F)" --wait

# All of it is in the audit log.
taskflow audit --limit 5
