"""Notifications: failures, recoveries and breaker changes told to people, in the background.

``routing`` decides which notifier hears of which engine event (pure); ``channels`` delivers
one notice by command, webhook or email; ``service`` holds a bounded queue and a worker per
notifier, retries with backoff, and logs a failing notifier once per ``quiet_for`` instead
of once per event. The engine publishes and moves on: nothing here can slow it.
"""
