"""Every list is cursor-paginated: a stable order ending in the id, no COUNT, and a page never
shifts when rows arrive meanwhile (an inbox grows while a client walks it)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    # Views set their own; each ends in a unique column, so the order is total.
    ordering = ("-id",)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        """DRF's, written for OpenAPI 3.1 (JSON Schema's null type, not 3.0's `nullable`)."""
        link = {"type": ["string", "null"], "format": "uri", "description": _("下一页或上一页的地址；没有时为 null。")}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def _invalid(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [_("分页游标无效。")]})

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:  # DRF answers a cursor it cannot read with 404; it is bad input
            raise self._invalid() from None

    def paginate_queryset(self, queryset, request, view=None):
        # A cursor that decodes but whose position is not a value of the ordering's column (forged).
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, DataError, ValueError, TypeError):
            raise self._invalid() from None


def cursor_ordered_by(*ordering: str) -> type[Cursor]:
    """The cursor pagination of a list in this order (its last field unique)."""
    return type("Cursor", (Cursor,), {"ordering": ordering})
