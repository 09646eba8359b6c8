#!/bin/sh
# Pause and resume, delayed starts, a per-trigger priority, marking nothing destructive.
# Needs a daemon on this folder: `taskflow demo` in another terminal, or TASKFLOW_SOCKET
# pointing at one. Writes only what the tasks write under ${TMPDIR:-/tmp}/taskflow-demo.
set -eu

# Hold everything of the nightly tree (queued runs wait; running ones go on; its schedule
# holds its fires and follows `missed` on resume). Kept across a daemon restart.
taskflow pause --task nightly
taskflow run nightly                  # triggered, but its leaves wait queued
taskflow status                       # "paused: pool frozen (limit 0), task nightly"
taskflow ls | grep nightly            # marked paused
taskflow resume --task nightly        # they start now

# The same for a pool, or for everything.
taskflow pause --pool db && taskflow resume --pool db
taskflow pause --all && taskflow resume --all

# A delayed start: scheduled (pending, with its start time), cancellable, kept across restarts.
id=$(taskflow run checks --in 10m)
taskflow runs --task checks --limit 1  # pending (scheduled for 14:05:00)
taskflow cancel "$id"
taskflow run cleanup --at 23:30 --priority 3   # tonight, after everything more urgent

# An urgent run jumps the queue, for this trigger only.
taskflow run deploy -p version=1.4.3 --priority 0

# What the audit kept of all that.
taskflow audit --limit 10
