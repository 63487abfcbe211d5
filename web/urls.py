from django.urls import path

from web.views import chains, deliveries, documents, inbox, notifications, outbox, printing

urlpatterns = [
    path("", inbox.inbox, name="inbox"),
    path("outbox/", outbox.outbox, name="outbox"),
    path("deliveries/<int:pk>/", deliveries.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/sign/", deliveries.delivery_sign, name="delivery-sign"),
    path("deliveries/<int:pk>/forward/", deliveries.delivery_forward, name="delivery-forward"),
    path("deliveries/<int:pk>/forward/preview/", deliveries.delivery_forward_preview, name="delivery-forward-preview"),
    path("deliveries/<int:pk>/return/", deliveries.delivery_return_view, name="delivery-return"),
    path("deliveries/<int:pk>/complete/", deliveries.delivery_complete_view, name="delivery-complete"),
    path("deliveries/<int:pk>/remind/", deliveries.delivery_remind_view, name="delivery-remind"),
    path("deliveries/<int:pk>/recall/", deliveries.delivery_recall_view, name="delivery-recall"),
    path("deliveries/<int:pk>/pdf/", printing.delivery_pdf_view, name="delivery-pdf"),
    path("dispatches/<int:pk>/recall/", deliveries.dispatch_recall_view, name="dispatch-recall"),
    path("returns/<int:pk>/notice/", documents.return_notice, name="return_notice"),
    path("feedback/attachments/<int:pk>/", documents.completion_attachment_download, name="completion-attachment"),
    path("chains/", chains.chain_list, name="chains"),
    path("documents/new/", documents.document_new, name="document-new"),
    path("documents/<int:pk>/", documents.document_detail, name="document"),
    path("documents/<int:pk>/sign-off/", documents.document_sign_off_view, name="document-sign-off"),
    path("documents/<int:pk>/issue/", documents.document_issue_view, name="document-issue"),
    path("documents/<int:pk>/pdf/", printing.document_pdf_view, name="document-pdf"),
    path("documents/<int:pk>/chain/", chains.chain, name="chain"),
    path("documents/<int:pk>/chain.json", chains.chain_json, name="chain-json"),
    path("documents/<int:pk>/chain.csv", chains.chain_csv, name="chain-csv"),
    path("attachments/<int:pk>/", documents.attachment_download, name="attachment"),
    path("units/search/", documents.unit_search, name="unit-search"),
    path("notifications/", notifications.notifications, name="notifications"),
    path("notifications/read/", notifications.notifications_read, name="notifications-read"),
    path("notifications/bell/", notifications.notifications_bell, name="notifications-bell"),
]
