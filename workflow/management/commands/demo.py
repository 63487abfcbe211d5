from django.core.management.base import BaseCommand, CommandError

from workflow.demo import LOGINS, PASSWORD, TELEGRAM_NUMBER, DemoRefused, demo_is_loaded, demo_load


class Command(BaseCommand):
    help = (
        "Build the demo directory, replay the seed's forwarding chain at its own dates (October 2022) and "
        "issue today's drill telegram (an empty database only; needs time-machine, from requirements-dev.txt)."
    )

    def handle(self, *args, **options):
        if demo_is_loaded():
            self.stdout.write(f"demo already loaded ({TELEGRAM_NUMBER} exists); nothing changed")
        else:
            try:
                demo_load()
            except DemoRefused as error:
                raise CommandError(str(error)) from error
            self.stdout.write(self.style.SUCCESS(f"demo loaded: {TELEGRAM_NUMBER} and its forwarding chain"))
        self.stdout.write(f"demo logins (password: {PASSWORD}):")
        for login in LOGINS:
            self.stdout.write(f"  {login.username:<12} {login.unit}（{login.roles}）")
