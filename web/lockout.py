"""django-axes with two limits: a (username, address) pair, and an address alone.

Axes counts failures for each entry of AXES_LOCKOUT_PARAMETERS, [(username, address), address], and
compares the largest count with one AXES_FAILURE_LIMIT (axes.handlers.database.get_failures). The
address's count includes the pair's, so one limit cannot tell a clerk mistyping five times from a
script trying fifty usernames: this handler compares each count with its own limit. It is set as
AXES_HANDLER, axes's documented way to specialise its handler.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.db.models import Sum


class PairAndAddressLockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The pair's failures, or the pair's limit once the address as a whole is over its own."""
        pair, address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if address >= settings.AXES_IP_FAILURE_LIMIT:
            return max(pair, get_failure_limit(request, credentials))
        return pair

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """A successful login clears its own pair's failures only. Axes would clear every entry of
        AXES_LOCKOUT_PARAMETERS, the whole address's among them: then anyone with one account could
        log in between guesses at another person's password and never reach either limit."""
        pair = self.filter_user_attempts(request, credentials)[0]
        count, _deleted = pair.delete()
        return count
