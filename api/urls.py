"""/api/v1/: the JSON API (README, "API"). The schema and its browsable docs are public; every
other route authenticates (api.authentication)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.problems import not_found_view
from api.views import chains, deliveries, directory, notifications, outbox, problems

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("problems", problems.ProblemTypeList.as_view(), name="problem-types"),
    path("problems/<slug:slug>", problems.ProblemTypeDetail.as_view(), name="problem-type"),
    path("units", directory.UnitList.as_view(), name="units"),
    path("recipient-groups", directory.RecipientGroupList.as_view(), name="recipient-groups"),
    path("inbox", deliveries.InboxList.as_view(), name="inbox"),
    path("deliveries/<int:pk>", deliveries.DeliveryDetail.as_view(), name="delivery"),
    path("deliveries/<int:pk>/sign-for", deliveries.DeliverySignFor.as_view(), name="delivery-sign-for"),
    path("attachments/<int:pk>/content", deliveries.AttachmentContent.as_view(), name="attachment-content"),
    path(
        "completion-attachments/<int:pk>/content",
        deliveries.CompletionAttachmentContent.as_view(),
        name="completion-attachment-content",
    ),
    path("outbox", outbox.OutboxList.as_view(), name="outbox"),
    path("dispatches/<int:pk>", outbox.DispatchDetail.as_view(), name="dispatch"),
    path("dispatches/<int:pk>/deliveries", outbox.DispatchDeliveryList.as_view(), name="dispatch-deliveries"),
    path("documents/<int:pk>/chain", chains.DocumentChain.as_view(), name="document-chain"),
    path("notifications", notifications.NotificationList.as_view(), name="notifications"),
    path("notifications/read", notifications.NotificationsRead.as_view(), name="notifications-read"),
    # Last: any other path under /api/v1/ is a problem+json 404, not the pages' HTML one.
    re_path(r"^.*$", not_found_view, name="not-found"),
]
