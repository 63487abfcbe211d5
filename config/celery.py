"""The Celery app. Queues by urgency, so a 特提 telegram never waits behind a routine backlog.

- ``urgent``: routing and notification of 特提 and 特急 documents; give it its own worker.
- ``routine``: routing and notification of everything else.
- ``control``: the beat's periodic work (sweep, reminders, audit verification); small and short,
  consumed by the urgent worker so that it too never waits behind a routine backlog.
- ``webhooks``: calls to other systems (webhooks/), which wait on those systems (up to
  WEBHOOK_TIMEOUT_SECONDS each): on a queue of their own, a slow receiver never delays routing,
  a 特提 telegram or the beat's control work.
"""

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

QUEUES = ("urgent", "routine", "control", "webhooks")

app = Celery("gongwen")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each queue has its own exchange and routing key: a message sent to "urgent" lands in the urgent list
# only (with bare Queue("urgent") every queue would share the default exchange and key).
app.conf.task_queues = [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES]
app.autodiscover_tasks()
