from django.urls import path

from web import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("outbox/", views.outbox, name="outbox"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/sign/", views.delivery_sign, name="delivery-sign"),
    path("deliveries/<int:pk>/forward/", views.delivery_forward, name="delivery-forward"),
    path("deliveries/<int:pk>/forward/preview/", views.delivery_forward_preview, name="delivery-forward-preview"),
    path("deliveries/<int:pk>/return/", views.delivery_return_view, name="delivery-return"),
    path("deliveries/<int:pk>/complete/", views.delivery_complete_view, name="delivery-complete"),
    path("deliveries/<int:pk>/remind/", views.delivery_remind_view, name="delivery-remind"),
    path("deliveries/<int:pk>/recall/", views.delivery_recall_view, name="delivery-recall"),
    path("dispatches/<int:pk>/recall/", views.dispatch_recall_view, name="dispatch-recall"),
    path("returns/<int:pk>/notice/", views.return_notice, name="return_notice"),
    path("feedback/attachments/<int:pk>/", views.completion_attachment_download, name="completion-attachment"),
    path("chains/", views.chain_list, name="chains"),
    path("documents/new/", views.document_new, name="document-new"),
    path("documents/<int:pk>/", views.document_detail, name="document"),
    path("documents/<int:pk>/sign-off/", views.document_sign_off_view, name="document-sign-off"),
    path("documents/<int:pk>/issue/", views.document_issue_view, name="document-issue"),
    path("documents/<int:pk>/chain/", views.chain, name="chain"),
    path("documents/<int:pk>/chain.json", views.chain_json, name="chain-json"),
    path("documents/<int:pk>/chain.csv", views.chain_csv, name="chain-csv"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("units/search/", views.unit_search, name="unit-search"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    path("notifications/bell/", views.notifications_bell, name="notifications-bell"),
]
