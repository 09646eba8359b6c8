"""An example taskflowd plugin: run hooks that every trigger passes through.

Enable it in taskflow.toml:

    python_path = ["/etc/taskflow/plugins"]
    plugins = ["guardrails"]
"""

import datetime

import taskflow


@taskflow.pre_run
def no_friday_deploys(task, params):
    """Refuse deploys on Fridays (UTC) unless the trigger says force=true."""
    is_deploy = task.name == "deploy" or "deploy" in task.tags
    if is_deploy and datetime.datetime.now(datetime.UTC).weekday() == 4 and params.get("force") is not True:
        raise taskflow.RunRejected("no deploys on Fridays; trigger with -p force=true to override")
    return None  # params unchanged


@taskflow.post_run
def log_failures(run):
    """Post-run hooks see the finished root run; a failing hook never fails the run."""
    if run.state != "succeeded":
        print(f"taskflow: {run.task} ended {run.state}: {run.message}", flush=True)
