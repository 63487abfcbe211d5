from functools import cached_property

from web.selectors import notification_unread_count, unit_list_for_outbox


class Navigation:
    """What the header shows: the person's units and the bell. Read only when a template asks."""

    def __init__(self, user) -> None:
        self.user = user

    @cached_property
    def unread(self) -> int:
        return notification_unread_count(self.user)

    @cached_property
    def units(self) -> list:
        return list(unit_list_for_outbox(self.user))


def navigation(request) -> dict:
    return {"nav": Navigation(request.user)} if hasattr(request, "user") else {}
