"""/api/v1/: the JSON API (README, "API"). The schema and its browsable docs are public; every
other route authenticates (api.authentication)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.problems import not_found_view
from api.views import chains, deliveries, directory, drafting, handling, notifications, outbox, problems, search

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
    path("search", search.DocumentSearch.as_view(), name="search"),
    path("notifications/read", notifications.NotificationsRead.as_view(), name="notifications-read"),
    # The write endpoints: drafting, 签发, 印发, and what is done with a delivery or a dispatch.
    path("documents", drafting.DocumentCreate.as_view(), name="documents"),
    path("documents/<int:pk>", drafting.DocumentDetail.as_view(), name="document"),
    path("documents/<int:pk>/attachments", drafting.DocumentAttachments.as_view(), name="document-attachments"),
    path("documents/<int:pk>/sign-off", drafting.DocumentSignOff.as_view(), name="document-sign-off"),
    path("documents/<int:pk>/issue", drafting.DocumentIssue.as_view(), name="document-issue"),
    path("deliveries/<int:pk>/return", handling.DeliveryReturnCreate.as_view(), name="delivery-return"),
    path("deliveries/<int:pk>/forward", handling.DeliveryForward.as_view(), name="delivery-forward"),
    path("deliveries/<int:pk>/complete", handling.DeliveryComplete.as_view(), name="delivery-complete"),
    path("deliveries/<int:pk>/remind", handling.DeliveryRemind.as_view(), name="delivery-remind"),
    path("deliveries/<int:pk>/recall", handling.DeliveryRecall.as_view(), name="delivery-recall"),
    path("dispatches/<int:pk>/recall", handling.DispatchRecall.as_view(), name="dispatch-recall"),
    # Last: any other path under /api/v1/ is a problem+json 404, not the pages' HTML one.
    re_path(r"^.*$", not_found_view, name="not-found"),
]
