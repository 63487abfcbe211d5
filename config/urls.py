from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from web.views import accounts
from workflow import api

# Django's auth URLs written out, so that nothing is live by accident: password reset by email
# exists only when PASSWORD_RESET_ENABLED is on (otherwise its URLs answer 404).
account_urlpatterns = [
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("otp/", accounts.otp_enrol, name="otp-enrol"),
    path("otp/verify/", accounts.otp_verify, name="otp-verify"),
]
if settings.PASSWORD_RESET_ENABLED:
    account_urlpatterns += [
        path("password_reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
        path("password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
        path("reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
        path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    ]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/deliveries/<int:delivery_id>/sign-for", api.delivery_sign_for_view, name="api-delivery-sign-for"),
    path("api/v1/", include("api.urls")),
    path("exchange/", include("exchange.urls")),
    path("accounts/", include(account_urlpatterns)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("web.urls")),
]
