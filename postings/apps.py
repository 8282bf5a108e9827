from django.apps import AppConfig


class PostingsConfig(AppConfig):
    name = "postings"
    verbose_name = "Marketplace postings"

    def ready(self):
        from postings import runners, signals  # noqa: F401  (connect the receivers)
