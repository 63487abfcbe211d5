import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from workflow.demo.simulate import demo_clerks_sign


class Command(BaseCommand):
    help = "Demo only: the demo's other clerks sign for what reaches them, each after a delay (make run starts it)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=3.0, help="seconds between rounds")

    def handle(self, *args, interval: float, **options):
        since = timezone.now()
        self.stdout.write(f"demo clerks: signing what reaches their units from {timezone.localtime(since):%H:%M:%S}")
        while True:
            signed = demo_clerks_sign(since=since, now=timezone.now())
            if signed:
                self.stdout.write(f"demo clerks: {signed} signed")
            time.sleep(interval)
