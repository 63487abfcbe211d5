"""Accounts: the second factor (TOTP, django-otp) and the limits on password reset mails.

Neither is a workflow state change, so neither writes the workflow's audit log: django-otp keeps a
device's creation and last use, and the reset table keeps the requests of the last hour.
"""

import base64
import enum
import functools
import math
import operator
from binascii import unhexlify
from datetime import timedelta

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from units.errors import InvalidInput
from units.selectors import unit_list_with_role
from web.models import PasswordResetRequest

# The session holds the id of the person who passed the second factor (or needs none) in it.
SECOND_FACTOR_PASSED_KEY = "gongwen_second_factor_passed"
# The key being enrolled lives in the session until the person confirms it with a code: an
# abandoned enrolment leaves no device row behind.
ENROLMENT_KEY = "gongwen_totp_enrolment_key"


class SecondFactorStep(enum.Enum):
    VERIFY = "verify"
    ENROL = "enrol"


def totp_device_of(user: AbstractBaseUser) -> TOTPDevice | None:
    """The person's confirmed TOTP device, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def second_factor_required(user: AbstractBaseUser) -> bool:
    """Whether the person holds a role of OTP_REQUIRED_ROLES on any unit (one query)."""
    roles = settings.OTP_REQUIRED_ROLES
    if not roles:
        return False
    return functools.reduce(operator.or_, (unit_list_with_role(user, role) for role in roles)).exists()


def second_factor_step(user: AbstractBaseUser) -> SecondFactorStep | None:
    """What the person must do before using the site: enter a code, enrol a device, or nothing."""
    if totp_device_of(user) is not None:
        return SecondFactorStep.VERIFY
    if second_factor_required(user):
        return SecondFactorStep.ENROL
    return None


def second_factor_passed(request: HttpRequest) -> None:
    request.session[SECOND_FACTOR_PASSED_KEY] = request.user.pk


def totp_enrolment_key(request: HttpRequest) -> str:
    """The hex key this session is enrolling (a new one the first time)."""
    key = request.session.get(ENROLMENT_KEY)
    if not key:
        key = request.session[ENROLMENT_KEY] = random_hex(20)
    return key


def totp_secret_for_display(key: str) -> str:
    """The key as authenticator apps ask for it by hand: base32, in groups of four."""
    secret = base64.b32encode(unhexlify(key)).decode()
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def totp_qr_svg(*, user: AbstractBaseUser, key: str) -> str:
    """The otpauth:// address of the key as a QR code, an SVG drawn here (nothing leaves the server)."""
    url = TOTPDevice(user=user, key=key).config_url
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def _code(token: str) -> int:
    token = token.strip().replace(" ", "")
    if not (token.isascii() and token.isdigit() and len(token) == 6):
        raise InvalidInput(_("验证码应为验证器显示的 6 位数字。"))
    return int(token)


def totp_enrol(*, request: HttpRequest, token: str) -> TOTPDevice:
    """Confirm the key being enrolled with a code from the person's app and store it as their device.

    Preconditions: the person has no confirmed device. Side effects: a confirmed TOTPDevice, the
    session verified. Errors: InvalidInput (a malformed or wrong code; nothing written).
    """
    user, key = request.user, request.session.get(ENROLMENT_KEY)
    if key is None or totp_device_of(user) is not None:
        raise InvalidInput(_("没有正在绑定的验证器，请重新打开绑定页面。"))
    code = _code(token)
    totp = TOTP(unhexlify(key))
    if not totp.verify(code, tolerance=1):
        raise InvalidInput(_("验证码不正确：请输入验证器当前显示的 6 位数字，并确认手机时间准确。"))
    # The code just used may not serve again (django-otp accepts only later time steps).
    device = TOTPDevice.objects.create(
        user=user, name=_("验证器"), key=key, confirmed=True, last_t=totp.t(), drift=totp.drift
    )
    del request.session[ENROLMENT_KEY]
    second_factor_passed(request)
    return device


def totp_verify(*, request: HttpRequest, token: str) -> None:
    """Check a code against the person's device and mark the session verified.

    django-otp throttles a device after wrong codes (1, 2, 4, 8… seconds before the next try), so
    that six digits cannot be guessed. Errors: InvalidInput (malformed, wrong, or too soon).
    """
    code = _code(token)
    # Committed whatever the answer: a wrong code's throttling must stay written.
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=request.user, confirmed=True).order_by("pk").first()
        if device is None:
            raise InvalidInput(_("您尚未绑定验证器。"))
        allowed, refusal = device.verify_is_allowed()
        verified = allowed and device.verify_token(code)
    if not allowed:
        wait = max(1, math.ceil((refusal["locked_until"] - timezone.now()).total_seconds()))
        raise InvalidInput(_("验证码错误次数过多，请 %(seconds)d 秒后再试。") % {"seconds": wait})
    if not verified:
        raise InvalidInput(_("验证码不正确：请输入验证器当前显示的 6 位数字。"))
    second_factor_passed(request)


def password_reset_refusal(*, address: str, email: str) -> str | None:
    """Count a request for a reset mail, or say why it is refused: at most PASSWORD_RESET_ADDRESS_LIMIT
    an hour from one address and PASSWORD_RESET_ACCOUNT_LIMIT an hour for one email address.

    The email is counted whether or not a person has it, so a refusal tells nothing about who
    exists. Refused requests are not counted: they send nothing.
    """
    now = timezone.now()
    since = now - timedelta(hours=1)
    account = salted_hmac("web.accounts.password_reset", email.strip().lower()).hexdigest()
    with transaction.atomic():
        PasswordResetRequest.objects.filter(requested_at__lt=since).delete()
        recent = PasswordResetRequest.objects.filter(requested_at__gte=since)
        if recent.filter(address=address).count() >= settings.PASSWORD_RESET_ADDRESS_LIMIT:
            return _("此地址在一小时内请求重置密码的次数已达上限（%(limit)d 次），请稍后再试。") % {
                "limit": settings.PASSWORD_RESET_ADDRESS_LIMIT
            }
        if recent.filter(account=account).count() >= settings.PASSWORD_RESET_ACCOUNT_LIMIT:
            return _("此邮箱在一小时内请求重置密码的次数已达上限（%(limit)d 次），请稍后再试。") % {
                "limit": settings.PASSWORD_RESET_ACCOUNT_LIMIT
            }
        PasswordResetRequest.objects.create(requested_at=now, address=address, account=account)
    return None
