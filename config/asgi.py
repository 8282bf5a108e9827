"""ASGI entry point: `uvicorn config.asgi:application` (what `make run` serves)."""
import os

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# The admin's and the API docs' static files, straight from the apps, without collectstatic or a
# separate file server: this is a one-host tool. Media is not served here, ever.
django_application = ASGIStaticFilesHandler(get_asgi_application())

from postings.streams import StatusStreamApp  # noqa: E402  (needs the apps loaded above)

# The job status stream is answered in front of Django, without a thread per stream.
application = StatusStreamApp(django_application)
