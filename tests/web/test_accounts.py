"""Accounts and sessions: password reset (off unless enabled), session limits, Cache-Control on
private answers, the login lockout by (username, address) and by address, and the second factor."""

import datetime
import importlib
import re
from binascii import unhexlify

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core import mail
from django.urls import URLPattern, URLResolver, clear_url_caches, get_resolver, reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

import config.urls
from tests.factories import UserFactory
from tests.web.conftest import sign_in
from tests.workflow.test_deadlines import at
from web.accounts import ENROLMENT_KEY
from web.models import PasswordResetRequest
from workflow.api import api_token_for
from workflow.models import Dispatch

pytestmark = pytest.mark.session_limits

PASSWORD = "pw"  # the factories' password
T0 = at("2026-03-02 09:00")


def log_in(client, username: str, *, address: str = "127.0.0.1", password: str = PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def messages_of(response) -> list[str]:
    return re.findall(r'<p class="message message-\w+">([^<]+)</p>', response.content.decode())


# --- Password reset --------------------------------------------------------------------------------


@pytest.fixture
def password_reset_on(settings):
    """PASSWORD_RESET_ENABLED on, and the URLs built again as a deployment with it on would have them."""
    settings.PASSWORD_RESET_ENABLED = True
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.PASSWORD_RESET_ENABLED = False
    importlib.reload(config.urls)
    clear_url_caches()


def test_password_reset_is_off_by_default_and_its_urls_answer_404(client, world, settings):
    assert settings.PASSWORD_RESET_ENABLED is False
    for url in ("/accounts/password_reset/", "/accounts/password_reset/done/", "/accounts/reset/MQ/abc-def/"):
        assert client.get(url).status_code == 404
    assert client.post("/accounts/password_reset/", {"email": "jygw@example.org"}).status_code == 404
    assert mail.outbox == []
    assert PasswordResetRequest.objects.count() == 0
    assert "忘记密码" not in client.get(reverse("login")).content.decode()


def test_password_reset_when_enabled_mails_a_link_in_the_products_own_pages(client, world, settings, password_reset_on):
    login_page = client.get(reverse("login")).content.decode()
    assert f'<a href="{reverse("password_reset")}">忘记密码？</a>' in login_page
    form = client.get(reverse("password_reset"))
    assert form.status_code == 200
    page = form.content.decode()
    assert "<h1>重置密码</h1>" in page
    assert "Django" not in page
    assert 'class="brand"' in page  # the product's base template

    response = client.post(reverse("password_reset"), {"email": "jygw@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert (message.subject, message.to) == ("公文流转：重置密码", ["jygw@example.org"])
    link = re.search(rf"{re.escape(settings.SITE_URL)}(/accounts/reset/\S+/)", message.body).group(1)
    assert "如果不是您本人申请，请忽略这封邮件" in message.body

    confirm = client.get(link, follow=True)
    assert "<h1>设置新密码</h1>" in confirm.content.decode()
    done = client.post(
        confirm.redirect_chain[-1][0], {"new_password1": "Zhong-Wen-2026!", "new_password2": "Zhong-Wen-2026!"}
    )
    assert done["Location"] == reverse("password_reset_complete")
    assert log_in(client, "jygw", password="Zhong-Wen-2026!").status_code == 302


def test_password_reset_mails_are_limited_per_email_address(client, world, settings, password_reset_on):
    for _ in range(settings.PASSWORD_RESET_ACCOUNT_LIMIT):
        assert client.post(reverse("password_reset"), {"email": "jygw@example.org"}).status_code == 302
    assert len(mail.outbox) == 3
    refused = client.post(reverse("password_reset"), {"email": "JYGW@example.org"}, REMOTE_ADDR="10.9.9.9")
    assert refused.status_code == 429
    assert "此邮箱在一小时内请求重置密码的次数已达上限（3 次），请稍后再试。" in refused.content.decode()
    assert len(mail.outbox) == 3
    assert PasswordResetRequest.objects.count() == 3


def test_password_reset_mails_are_limited_per_address_and_counted_for_unknown_emails(
    client, world, settings, password_reset_on
):
    with time_machine.travel(T0, tick=False) as clock:
        for index in range(settings.PASSWORD_RESET_ADDRESS_LIMIT):
            assert client.post(reverse("password_reset"), {"email": f"nobody{index}@example.org"}).status_code == 302
        refused = client.post(reverse("password_reset"), {"email": "jygw@example.org"})
        assert refused.status_code == 429
        assert "此地址在一小时内请求重置密码的次数已达上限（5 次），请稍后再试。" in refused.content.decode()
        assert mail.outbox == []
        assert PasswordResetRequest.objects.count() == 5
        # Another address is not concerned; and an hour later this one may ask again.
        assert (
            client.post(reverse("password_reset"), {"email": "jygw@example.org"}, REMOTE_ADDR="10.0.0.2").status_code
            == 302
        )
        clock.shift(datetime.timedelta(hours=1, seconds=1))
        assert client.post(reverse("password_reset"), {"email": "imu@example.org"}).status_code == 302
    assert [message.to for message in mail.outbox] == [["jygw@example.org"], ["imu@example.org"]]


# --- Session limits --------------------------------------------------------------------------------


def test_a_session_ends_after_the_idle_time_and_says_why(client, world, settings):
    with time_machine.travel(T0, tick=False) as clock:
        login = log_in(client, "jygw")
        assert login.status_code == 302
        assert login.cookies["sessionid"]["max-age"] == settings.SESSION_MAX_HOURS * 3600 == 12 * 3600
        clock.shift(datetime.timedelta(minutes=29))
        assert client.get(reverse("inbox")).status_code == 200
        clock.shift(datetime.timedelta(minutes=29))
        assert client.get(reverse("inbox")).status_code == 200  # activity renewed the idle clock
        clock.shift(datetime.timedelta(minutes=30))
        ended = client.get(reverse("outbox"))
        assert ended.status_code == 302
        assert ended["Location"] == f"{reverse('login')}?next={reverse('outbox')}"
        login_page = client.get(ended["Location"])
        assert messages_of(login_page) == ["您已超过 30 分钟没有操作，为安全起见已退出登录，请重新登录。"]
        again = client.get(reverse("inbox"))
        assert again["Location"] == f"{reverse('login')}?next=/"  # signed out: no session left


def test_background_refreshes_do_not_keep_a_session_alive(client, world):
    with time_machine.travel(T0, tick=False) as clock:
        log_in(client, "jygw")
        for _ in range(2):
            clock.shift(datetime.timedelta(minutes=10))
            bell = client.get(
                reverse("notifications-bell"), headers={"HX-Request": "true", "X-Background-Refresh": "1"}
            )
            assert bell.status_code == 200
        # 30 minutes without the person doing anything: the next refresh sends the whole page to the login.
        clock.shift(datetime.timedelta(minutes=10))
        ended = client.get(
            reverse("notifications-bell"),
            headers={"HX-Request": "true", "X-Background-Refresh": "1", "HX-Current-URL": "http://testserver/outbox/"},
        )
        assert ended.status_code == 200
        assert ended["HX-Redirect"] == f"{reverse('login')}?next=/outbox/"


def test_the_idle_time_comes_from_the_setting(client, world, settings):
    settings.SESSION_IDLE_MINUTES = 5
    with time_machine.travel(T0, tick=False) as clock:
        log_in(client, "jygw")
        clock.shift(datetime.timedelta(minutes=5))
        ended = client.get(reverse("inbox"), follow=True)
    assert messages_of(ended) == ["您已超过 5 分钟没有操作，为安全起见已退出登录，请重新登录。"]


def test_a_session_ends_at_its_maximum_age_however_active(client, world, settings):
    with time_machine.travel(T0, tick=False) as clock:
        log_in(client, "jygw")
        for _ in range(12 * 3 - 1):
            clock.shift(datetime.timedelta(minutes=20))
            assert client.get(reverse("inbox")).status_code == 200
        clock.shift(datetime.timedelta(minutes=20))  # 12 hours after the login
        ended = client.get(reverse("inbox"), follow=True)
    assert ended.redirect_chain == [(f"{reverse('login')}?next=/", 302)]
    assert messages_of(ended) == ["登录已超过 12 小时，为安全起见请重新登录。"]


def test_a_new_login_starts_the_clocks_again(client, world):
    with time_machine.travel(T0, tick=False) as clock:
        log_in(client, "jygw")
        clock.shift(datetime.timedelta(hours=11, minutes=50))
        log_in(client, "jygw")  # the session had gone idle; a fresh login, not the old clock
        clock.shift(datetime.timedelta(minutes=20))
        assert client.get(reverse("inbox")).status_code == 200


# --- Cache-Control ---------------------------------------------------------------------------------


def _walk(resolvers, prefix="", chain=()):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), (*chain, str(entry.pattern)))
        else:
            assert isinstance(entry, URLPattern)
            yield prefix + str(entry.pattern), chain


def _fill(route: str, chain: tuple, ids: dict) -> str:
    """A URL for a route: each argument filled with an id of the scenario that fits the route."""

    def value(name: str) -> str:
        if name in ("object_id", "pk") and chain[:1] == ("admin/",) and len(chain) > 1:
            # admin/<app>/<model>/<object_id>/…: the model's first row
            app_label, model_name = chain[1].strip("/").split("/")
            from django.apps import apps

            first = apps.get_model(app_label, model_name).objects.order_by("pk").first()
            return str(first.pk if first else 1)
        if name == "pk":
            # A route this scenario has no row for gets an id that does not exist (a 404 is an answer too).
            return str(next((pk for start, pk in ids.items() if route.startswith(start)), 999_999))
        return {"delivery_id": str(ids["deliveries/"]), "app_label": "workflow", "url": "no-such-page/"}.get(name, "1")

    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: value(match.group(1)), route)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda match: value(match.group(1)), route)
    return "/" + route.replace("^", "").replace("$", "")


def test_every_url_answers_a_signed_in_person_with_no_store(client, world, scenario, nothing_written):
    from units.models import Unit

    world.zzb.is_staff = world.zzb.is_superuser = True
    world.zzb.save(update_fields=["is_staff", "is_superuser"])
    sign_in(client, world.zzb)
    ids = {
        "deliveries/": scenario["received"].pk,
        "dispatches/": Dispatch.objects.get(document=scenario["telegram"]).pk,
        "documents/": scenario["telegram"].pk,
        "attachments/": scenario["attachment"].pk,
        "returns/": 999_999,
        "feedback/": 999_999,
    }
    seen = {}
    with nothing_written():
        for route, chain in _walk(get_resolver().url_patterns):
            url = _fill(route, chain, ids)
            response = client.get(url)
            assert response.status_code != 500, url
            assert response["Cache-Control"] == "private, no-store", url
            seen[url] = response.status_code
    assert Unit.objects.exists()
    assert len(seen) > 100  # the site's pages and the admin's
    assert seen[f"/deliveries/{scenario['received'].pk}/"] == 200  # the issuer's clerk's view of it
    assert seen[f"/documents/{scenario['telegram'].pk}/chain/"] == 200
    assert seen[f"/attachments/{scenario['attachment'].pk}/"] == 200  # a download (FileResponse)
    assert seen["/admin/"] == 200


def test_json_api_answers_and_downloads_carry_no_store_without_a_session(client, world, scenario):
    url = reverse("api-delivery-sign-for", args=[scenario["received"].pk])
    unauthenticated = client.post(url)
    assert unauthenticated.status_code == 401
    assert unauthenticated["Cache-Control"] == "private, no-store"
    signed = client.post(url, headers={"Authorization": f"Bearer {api_token_for(world.jygw)}"})
    assert signed.status_code == 200
    assert signed["Cache-Control"] == "private, no-store"


# --- Login lockout ---------------------------------------------------------------------------------


def test_wrong_passwords_lock_the_username_at_that_address_only(client, world, settings, nothing_written):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "imu", address="10.0.0.1", password="wrong").status_code == 200
    locked = log_in(client, "imu", address="10.0.0.1", password="wrong")
    assert locked.status_code == 429
    assert "登录已暂停 30 分钟" in locked.content.decode()
    # The right password at address A is refused while locked; at address B the clerk logs in.
    with nothing_written():
        refused = log_in(client, "imu", address="10.0.0.1")
        assert refused.status_code == 429
        assert client.get(reverse("inbox"))["Location"] == f"{reverse('login')}?next=/"  # not signed in
    assert log_in(client, "imu", address="10.0.0.2").status_code == 302
    # Another person at address A is not locked out either.
    client.logout()
    assert log_in(client, "jygw", address="10.0.0.1").status_code == 302


def test_many_usernames_failing_from_one_address_lock_the_address(client, world, settings):
    settings.AXES_IP_FAILURE_LIMIT = 8
    usernames = ["imu", "jygw", "zzb", "auditor", "nobody1", "nobody2", "nobody3"]
    for username in usernames:
        assert log_in(client, username, address="10.0.0.7", password="wrong").status_code == 200
    assert log_in(client, "nobody4", address="10.0.0.7", password="wrong").status_code == 429
    assert log_in(client, "univ_b_clerk", address="10.0.0.7").status_code == 429
    assert log_in(client, "univ_b_clerk", address="10.0.0.8").status_code == 302


def test_a_successful_login_clears_only_its_own_count(client, world, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "imu", address="10.0.0.1", password="wrong")
        log_in(client, "jygw", address="10.0.0.1", password="wrong")
    assert log_in(client, "jygw", address="10.0.0.1").status_code == 302
    client.logout()
    assert sorted(AccessAttempt.objects.values_list("username", "failures_since_start")) == [("imu", 4)]
    # Logging in with one account between guesses does not reset the count of another.
    assert log_in(client, "imu", address="10.0.0.1", password="wrong").status_code == 429


def test_the_login_page_says_what_the_lockout_does(client, world):
    page = client.get(reverse("login")).content.decode()
    assert (
        "在同一地址对同一用户名连续输错密码 5 次，该用户名在这个地址将被暂停登录 30 分钟，在其他地址不受影响；"
        "同一地址的失败登录累计达到 50 次（无论哪个用户名），该地址将被暂停登录 30 分钟。"
    ) in page


# --- Second factor (TOTP) --------------------------------------------------------------------------


def _code_for(key_hex: str, when: datetime.datetime) -> str:
    totp = TOTP(unhexlify(key_hex))
    totp.time = when.timestamp()
    return f"{totp.token():06d}"


def test_enrol_then_every_login_asks_for_the_code(client, world):
    with time_machine.travel(T0, tick=False) as clock:
        log_in(client, "imu")
        page = client.get(reverse("otp-enrol"))
        assert page.status_code == 200
        html = page.content.decode()
        assert "<svg" in html
        assert "<path" in html
        key = client.session[ENROLMENT_KEY]
        secret = re.search(r"<code>([A-Z2-7 ]+)</code>", html).group(1)
        assert len(secret.replace(" ", "")) == 32

        wrong = client.post(reverse("otp-enrol"), {"code": "000000" if _code_for(key, T0) != "000000" else "111111"})
        assert wrong.status_code == 400
        assert "验证码不正确" in wrong.content.decode()
        assert TOTPDevice.objects.count() == 0

        enrolled = client.post(reverse("otp-enrol"), {"code": _code_for(key, T0)})
        assert enrolled["Location"] == reverse("inbox")
        device = TOTPDevice.objects.get()
        assert (device.user_id, device.confirmed, device.key) == (world.imu.pk, True, key)
        assert client.get(reverse("inbox")).status_code == 200

        client.post(reverse("logout"))
        clock.shift(datetime.timedelta(seconds=60))
        assert log_in(client, "imu")["Location"] == reverse("inbox")
        for url in (reverse("inbox"), reverse("outbox"), reverse("password_change"), reverse("otp-enrol")):
            blocked = client.get(url)
            assert blocked["Location"] == f"{reverse('otp-verify')}?next={url}", url

        refused = client.post(reverse("otp-verify"), {"code": "12345"})
        assert refused.status_code == 400
        assert "验证码应为验证器显示的 6 位数字。" in refused.content.decode()
        wrong = client.post(reverse("otp-verify"), {"code": f"{(int(_code_for(key, _now())) + 1) % 10**6:06d}"})
        assert wrong.status_code == 400
        assert "验证码不正确" in wrong.content.decode()
        # Right away, even the right code waits: a wrong one throttles the device (1 s, then 2, 4…).
        throttled = client.post(reverse("otp-verify"), {"code": _code_for(key, _now())})
        assert "验证码错误次数过多，请 1 秒后再试。" in throttled.content.decode()
        assert client.get(reverse("inbox")).status_code == 302

        clock.shift(datetime.timedelta(seconds=2))
        verified = client.post(
            reverse("otp-verify") + "?next=/outbox/", {"code": _code_for(key, _now()), "next": "/outbox/"}
        )
        assert verified["Location"] == "/outbox/"
        assert client.get(reverse("inbox")).status_code == 200


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


def test_a_code_serves_once(client, world):
    with time_machine.travel(T0, tick=False):
        log_in(client, "imu")
        client.get(reverse("otp-enrol"))
        key = client.session[ENROLMENT_KEY]
        client.post(reverse("otp-enrol"), {"code": _code_for(key, T0)})
        client.post(reverse("logout"))
        log_in(client, "imu")
        replayed = client.post(reverse("otp-verify"), {"code": _code_for(key, T0)})
    assert replayed.status_code == 400
    assert "验证码不正确" in replayed.content.decode()


def test_a_required_role_blocks_every_page_until_enrolled_and_verified(
    client, world, settings, scenario, nothing_written
):
    settings.OTP_REQUIRED_ROLES = ["signer", "auditor"]
    with time_machine.travel(T0, tick=False) as clock:
        assert log_in(client, "jygw").status_code == 302
        with nothing_written():
            for url in (reverse("inbox"), reverse("delivery", args=[scenario["received"].pk]), "/admin/"):
                blocked = client.get(url)
                assert blocked["Location"] == f"{reverse('otp-enrol')}?next={url}", url
            posted = client.post(reverse("delivery-sign", args=[scenario["received"].pk]))
            assert posted["Location"].startswith(f"{reverse('otp-enrol')}?next=")
        htmx = client.get(
            reverse("notifications-bell"), headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/"}
        )
        assert htmx["HX-Redirect"] == f"{reverse('otp-enrol')}?next=/"
        page = client.get(reverse("otp-enrol"))
        assert "您担任的角色要求启用双因素认证：绑定验证器后才能继续使用系统。" in page.content.decode()
        # The API's bearer tokens are not concerned.
        api = client.post(
            reverse("api-delivery-sign-for", args=[scenario["received"].pk]),
            headers={"Authorization": f"Bearer {api_token_for(world.jygw)}"},
        )
        assert api.status_code == 200

        key = client.session[ENROLMENT_KEY]
        client.post(reverse("otp-enrol"), {"code": _code_for(key, T0)})
        assert client.get(reverse("inbox")).status_code == 200

        # The next login asks for the code before any page.
        client.post(reverse("logout"))
        clock.shift(datetime.timedelta(seconds=60))
        log_in(client, "jygw")
        assert client.get(reverse("inbox"))["Location"] == f"{reverse('otp-verify')}?next=/"
        client.post(reverse("otp-verify"), {"code": _code_for(key, _now())})
        assert client.get(reverse("inbox")).status_code == 200

        # A clerk without a required role is not asked.
        client.post(reverse("logout"))
        log_in(client, "imu")
        assert client.get(reverse("inbox")).status_code == 200


def test_a_person_without_a_device_and_no_required_role_is_never_asked(client, world):
    user = UserFactory(username="plain")
    log_in(client, user.username)
    # Not sent to the second factor; belonging to no unit, they land on the chains (issue 11).
    assert client.get(reverse("inbox"))["Location"] == reverse("chains")
    assert client.get(reverse("chains")).status_code == 200


def test_a_form_posted_after_the_idle_time_writes_nothing_and_returns_to_its_page(client, world, nothing_written):
    from tests.factories import delivery_of, issue

    document, _ = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    page = reverse("delivery", args=[delivery.pk])
    with time_machine.travel(T0, tick=False) as clock:
        log_in(client, "jygw")
        clock.shift(datetime.timedelta(minutes=31))
        with nothing_written():
            ended = client.post(
                reverse("delivery-sign", args=[delivery.pk]), headers={"Referer": f"http://testserver{page}"}
            )
    assert ended["Location"] == f"{reverse('login')}?next={page}"
