from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from workflow.api import TOKEN_MAX_AGE_SECONDS, api_token_for


class Command(BaseCommand):
    help = "Print a bearer token for the JSON API for this person (valid 12 hours, or until their password changes)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"没有启用的用户 {username}。")
        self.stdout.write(api_token_for(user))
        self.stderr.write(f"valid for {TOKEN_MAX_AGE_SECONDS // 3600} hours")
