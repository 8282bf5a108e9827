"""What the server does by itself, on time: the one loop behind `make run` that needs no cron.

Every TIMEKEEPER_SECONDS it starts the scheduled jobs whose time has come (the subprocess runner;
Procrastinate schedules its own), fails jobs whose worker died even when nobody is looking, and
sends `tick` for the apps that have work to do on time (webhook deliveries). It runs in a thread
of the ASGI server, started and stopped by the server's lifespan (config/asgi.py); several server
processes may run one each: every job is claimed by one of them.
"""
import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.dispatch import Signal

from postings import runners

logger = logging.getLogger(__name__)

# Sent every tick, from the timekeeper's thread: receivers do what is due and return quickly.
tick = Signal()


def tick_once() -> None:
    """One round: due jobs, dead workers, then the apps' own work. A failing part is logged and
    does not stop the others (the next tick tries again)."""
    for name, work in (("scheduled jobs", runners.launch_due_jobs), ("stale jobs", runners.jobs_reap_stale),
                       ("tick receivers", lambda: tick.send_robust(sender=None))):
        try:
            close_old_connections()
            result = work()
            for receiver, error in result if name == "tick receivers" else ():
                if error is not None:
                    logger.error("the timekeeper's %s failed", receiver, exc_info=error)
        except Exception:
            logger.exception("the timekeeper's round of %s failed", name)
            connection.close()


class Timekeeper(threading.Thread):
    def __init__(self, interval: float | None = None):
        super().__init__(name="timekeeper", daemon=True)
        self.interval = interval if interval is not None else settings.TIMEKEEPER_SECONDS
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                tick_once()
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=30)
