from django.urls import path

from web import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("outbox/", views.outbox, name="outbox"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/sign/", views.delivery_sign, name="delivery-sign"),
    path("deliveries/<int:pk>/forward/", views.delivery_forward, name="delivery-forward"),
    path("deliveries/<int:pk>/forward/preview/", views.delivery_forward_preview, name="delivery-forward-preview"),
    path("chains/", views.chain_list, name="chains"),
    path("documents/<int:pk>/", views.document_detail, name="document"),
    path("documents/<int:pk>/sign-off/", views.document_sign_off_view, name="document-sign-off"),
    path("documents/<int:pk>/issue/", views.document_issue_view, name="document-issue"),
    path("documents/<int:pk>/chain/", views.chain, name="chain"),
    path("documents/<int:pk>/chain.json", views.chain_json, name="chain-json"),
    path("documents/<int:pk>/chain.csv", views.chain_csv, name="chain-csv"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    path("notifications/bell/", views.notifications_bell, name="notifications-bell"),
]
