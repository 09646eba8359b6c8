"""The engine's decision layer: pure rules, no I/O.

What may start next (``scheduler``), whether a service accepts work (``breakers``,
``ratelimit``), when to retry (``retry``), when schedules fire (``schedules``), how a trigger
becomes a run tree (``runtree``) and how many workers the host can bear (``adaptive``). Every
function takes the time and the randomness it needs as arguments; nothing here touches a
process, a file, the store or the event loop (an import-linter contract holds it to that).
"""
