"""Accounts: login (with its lockout rules shown), password reset when enabled, and the second
factor (TOTP): enrolment and the code asked after the password."""

from axes.helpers import get_client_ip_address
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from units.errors import InvalidInput
from web import accounts


class LoginView(auth_views.LoginView):
    """Django's login, with the lockout rules and the reset link (when enabled) on the page."""

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            failure_limit=settings.AXES_FAILURE_LIMIT,
            address_failure_limit=settings.AXES_IP_FAILURE_LIMIT,
            cooloff_minutes=int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
            password_reset_enabled=settings.PASSWORD_RESET_ENABLED,
            **kwargs,
        )


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form and mail (PasswordResetForm.save), within the limits of web.accounts."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        refusal = accounts.password_reset_refusal(
            address=get_client_ip_address(self.request), email=form.cleaned_data["email"]
        )
        if refusal is not None:
            form.add_error(None, refusal)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        self.extra_email_context = {"site_url": settings.SITE_URL}  # links in mails use the site's address
        return super().form_valid(form)


class TOTPCodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("验证码"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*", "autofocus": True}
        ),
    )


def _next_page(request) -> str:
    target = request.POST.get("next") or request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url("inbox")


@login_required
@require_http_methods(["GET", "POST"])
def otp_enrol(request):
    """/accounts/otp/: bind an authenticator app (QR code and secret), confirmed by one code."""
    device = accounts.totp_device_of(request.user)
    if device is not None:
        if request.method == "POST":
            messages.error(request, _("您已绑定验证器；如需更换，请联系系统管理员删除原验证器后重新绑定。"))
        return render(request, "registration/otp_enrol.html", {"device": device, "next": _next_page(request)})
    form = TOTPCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            accounts.totp_enrol(request=request, token=form.cleaned_data["code"])
        except InvalidInput as error:
            form.add_error("code", error.message)
            status = 400
        else:
            messages.success(request, _("已绑定验证器：以后登录时，输入密码后还需输入验证器显示的验证码。"))
            return redirect(_next_page(request))
    key = accounts.totp_enrolment_key(request)
    context = {
        "form": form,
        "qr_svg": accounts.totp_qr_svg(user=request.user, key=key),
        "secret": accounts.totp_secret_for_display(key),
        "required": accounts.second_factor_required(request.user),
        "next": _next_page(request),
    }
    return render(request, "registration/otp_enrol.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    """/accounts/otp/verify/: the second step of a login, the code from the person's authenticator."""
    if accounts.totp_device_of(request.user) is None:
        return redirect(_next_page(request))
    form = TOTPCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            accounts.totp_verify(request=request, token=form.cleaned_data["code"])
        except InvalidInput as error:
            form.add_error("code", error.message)
            status = 400
        else:
            return redirect(_next_page(request))
    return render(request, "registration/otp_verify.html", {"form": form, "next": _next_page(request)}, status=status)
