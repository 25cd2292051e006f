from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "custody"
    verbose_name = "Custody ledger"

    def ready(self):
        # Registers the Celery tasks and hands the webhook outbox its publisher; and the
        # deploy checks of the ledger's settings.
        from . import checks, tasks  # noqa: F401
