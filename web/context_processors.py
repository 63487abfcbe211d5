from functools import cached_property

from units.models import Role, Unit
from units.selectors import unit_list_with_role
from web.selectors import unit_list_for_outbox
from workflow.selectors import notification_unread_count


class Navigation:
    """What the header shows: the person's units and the bell. Read only when a template asks.

    One per request (navigation_for): a view that asks first (the inbox's landing) and the header
    share its answers, so the page reads them once.
    """

    def __init__(self, user) -> None:
        self.user = user

    @cached_property
    def unread(self) -> int:
        return notification_unread_count(self.user)

    @cached_property
    def units(self) -> list:
        return list(unit_list_for_outbox(self.user))

    @cached_property
    def keeps_register(self) -> bool:
        """Whether the person is a clerk of a unit: who registers what arrives from outside (登记来文)."""
        return unit_list_with_role(self.user, Role.CLERK).filter(is_active=True).exists()

    @property
    def has_units(self) -> bool:
        """Whether the person belongs to a unit (units.selectors.unit_list_for_member): who has a
        收文 and a 发文. Someone with audit scope only works from the chains they oversee."""
        return bool(self.units)

    @property
    def works_in_departments_only(self) -> bool:
        """Whether every unit of the person is a department (内设机构): nothing is delivered to one,
        their work comes through 待办."""
        return bool(self.units) and all(unit.kind == Unit.Kind.INNER_DEPARTMENT for unit in self.units)


def navigation_for(request) -> Navigation:
    if not hasattr(request, "_navigation"):
        request._navigation = Navigation(request.user)
    return request._navigation


def navigation(request) -> dict:
    return {"nav": navigation_for(request)} if hasattr(request, "user") else {}
