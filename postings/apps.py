from django.apps import AppConfig


class PostingsConfig(AppConfig):
    name = "postings"
    verbose_name = "Marketplace postings"

    def ready(self):
        from postings import signals  # noqa: F401  (connects the receivers)
