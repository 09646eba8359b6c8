"""The local process executor: attempts as real processes on this host.

``ProcessExecutor`` (``local``) implements the engine's ``Executor`` protocol: it spawns the
``/bin/sh`` wrapper (``wrapper``) per attempt, watches it through a pidfd (``attempt``), kills
whole trees (``proctree``, ``cgroups``), keeps output capped on disk (``output``, ``keeper``,
``output_keeper``), runs tasks as other users (``users``) and classifies how each attempt
ended (``outcome``).
"""
