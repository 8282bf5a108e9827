"""ASGI entry point: `uvicorn config.asgi:application` (what `make run` serves)."""
import asyncio
import os

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# The admin's and the API docs' static files, straight from the apps, without collectstatic or a
# separate file server: this is a one-host tool. Media is not served here, ever.
django_application = ASGIStaticFilesHandler(get_asgi_application())

from postings.streams import StatusStreamApp  # noqa: E402  (needs the apps loaded above)

from config.timekeeper import Timekeeper  # noqa: E402


class WithTimekeeper:
    """The ASGI lifespan: the server's timekeeper thread runs from start-up to shutdown."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)
        timekeeper = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                timekeeper = Timekeeper()
                timekeeper.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if timekeeper is not None:
                    await asyncio.to_thread(timekeeper.stop)  # its round may be mid-query
                await send({"type": "lifespan.shutdown.complete"})
                return


# The job status stream is answered in front of Django, without a thread per stream.
application = WithTimekeeper(StatusStreamApp(django_application))
