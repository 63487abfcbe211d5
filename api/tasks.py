"""The API's periodic work: a thin task around one function (the project's rule for tasks)."""

from celery import shared_task

from api.idempotency import idempotency_keys_purge


@shared_task(name="api.purge_idempotency_keys")
def purge_idempotency_keys_task() -> int:
    """Run hourly by the beat (config/settings.py). A lost run only leaves old rows a little longer:
    they already count as absent."""
    return idempotency_keys_purge()
