"""Where runs execute: in this process, in a process pool (a fan-out's renders), or on
Celery workers fed through a broker (``executor: celery`` in settings)."""
