"""The project's URLs plus a bare Django view: the same server's floor for the receipts benchmark."""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as project_urlpatterns


@csrf_exempt
@require_POST
def bare(request, delivery_id: int):
    """Parses the same URL, runs the same middleware, touches no database and no token."""
    return JsonResponse({"receipt": {"delivery_id": delivery_id}})


urlpatterns = [*project_urlpatterns, path("bench/bare/<int:delivery_id>", bare)]
