import contextlib
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import FileResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import resolve_url
from django.utils import translation
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from web import accounts

# The JSON API's prefix: other systems ask for a language with Accept-Language (api.problems).
API_PREFIX = "/api/v1/"


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the person chose another language with the switch (the language cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language header; offices run
    browsers set to anything, and the pages are Chinese first. The JSON API (/api/v1/) does follow
    it: a program that sends `Accept-Language: en` asks for English on purpose; without it, Chinese.
    """

    def process_request(self, request) -> None:
        if request.path_info.startswith(API_PREFIX):
            translation.activate(translation.get_language_from_request(request))
            request.LANGUAGE_CODE = translation.get_language()
            return
        language = settings.LANGUAGE_CODE
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen:
            with contextlib.suppress(LookupError):
                language = translation.get_supported_language_variant(chosen)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _redirect(request, url: str):
    """A redirect that also works for htmx requests: htmx would follow a plain one and swap the
    target page into a fragment (the bell), so it gets a client redirect of the whole page."""
    return HttpResponseClientRedirect(url) if _is_htmx(request) else HttpResponseRedirect(url)


def _with_next(url: str, page: str) -> str:
    """url?next=page, written as Django's redirect_to_login writes it."""
    query = QueryDict(mutable=True)
    query["next"] = page
    return f"{url}?{query.urlencode(safe='/')}"


def _current_page(request) -> str:
    """The page the person is on: for an htmx request the page that made it, not the fragment; for
    a form post the page the form was on (the post's own URL may answer POST only)."""
    if _is_htmx(request):
        source = request.headers.get("HX-Current-URL", "")
    elif request.method not in ("GET", "HEAD"):
        source = request.headers.get("Referer", "")
    else:
        return request.get_full_path()
    page = urlsplit(source)
    if not page.path:
        return resolve_url("inbox")
    return page.path + (f"?{page.query}" if page.query else "")


class PrivateCacheMiddleware:
    """`Cache-Control: private, no-store` on every answer to a signed-in person, on every file
    download and on every answer of the JSON API: documents must not stay in a shared proxy's cache
    or in the browser's, where the next person at an office computer could open them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            isinstance(response, FileResponse | JsonResponse)
            or request.user.is_authenticated
            or request.path_info.startswith("/api/")  # the JSON API, whoever its caller (not a session)
        ):
            response["Cache-Control"] = "private, no-store"
        return response


# Session keys of SessionLimitsMiddleware: when the session's login happened and when the person
# last made a request (Unix seconds).
SESSION_STARTED_KEY = "gongwen_session_started"
SESSION_ACTIVE_KEY = "gongwen_session_active"
# Activity is written to the session at most once a minute, not on every request (a write each).
ACTIVITY_RESOLUTION_SECONDS = 60
# Requests the page makes by itself (the bell, the outbox's refresh) carry this header: they are
# not the person's activity, and would otherwise keep an abandoned session alive forever.
BACKGROUND_HEADER = "X-Background-Refresh"


class SessionLimitsMiddleware:
    """Ends a session idle for SESSION_IDLE_MINUTES or older than SESSION_MAX_HOURS, and sends the
    person to the login page with a message saying which."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session, user_before = request.session, request.user
        # Not on the login page: a login posted over a stale session replaces it (below).
        if request.user.is_authenticated and request.path != resolve_url(settings.LOGIN_URL):
            ended = self._end_if_over(request)
            if ended is not None:
                return ended
        response = self.get_response(request)
        # A login in this request starts both clocks: django.contrib.auth.login replaces request.user
        # (and keeps the session's data when the same person logs in again over it). The JSON API
        # replaces it too, for the request only (a bearer credential): no session, nothing to start.
        if request.user is not user_before and request.user.is_authenticated and session.get(SESSION_KEY):
            now = int(time.time())
            session[SESSION_STARTED_KEY] = session[SESSION_ACTIVE_KEY] = now
        return response

    def _end_if_over(self, request):
        session, now = request.session, int(time.time())
        started, active = session.get(SESSION_STARTED_KEY), session.get(SESSION_ACTIVE_KEY)
        if started is None or active is None:  # signed in by other means (tests' force_login)
            session[SESSION_STARTED_KEY] = session[SESSION_ACTIVE_KEY] = now
            return None
        if now - started >= settings.SESSION_MAX_HOURS * 3600:
            reason = _("登录已超过 %(hours)d 小时，为安全起见请重新登录。") % {"hours": settings.SESSION_MAX_HOURS}
        elif now - active >= settings.SESSION_IDLE_MINUTES * 60:
            reason = _("您已超过 %(minutes)d 分钟没有操作，为安全起见已退出登录，请重新登录。") % {
                "minutes": settings.SESSION_IDLE_MINUTES
            }
        else:
            if now - active >= ACTIVITY_RESOLUTION_SECONDS and BACKGROUND_HEADER not in request.headers:
                session[SESSION_ACTIVE_KEY] = now
            return None
        page = _current_page(request)
        logout(request)
        messages.warning(request, reason)
        # A form posted after the session ended is not replayed after the login: back to its page.
        return _redirect(request, _with_next(resolve_url(settings.LOGIN_URL), page))


class SecondFactorMiddleware:
    """Before any page works, a person with a TOTP device enters its code (/accounts/otp/verify/),
    and a person who must have one (OTP_REQUIRED_ROLES) enrols it (/accounts/otp/).

    What it found is kept in the session (the person's id once passed), so a session pays the device
    and role lookups once. The JSON API is not concerned: it authenticates by bearer token, not by
    the session.
    """

    # Open to a signed-in person who has not passed yet: leaving, and choosing the language.
    ALWAYS_OPEN = frozenset({"logout", "set_language"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or request.session.get(accounts.SECOND_FACTOR_PASSED_KEY) == user.pk:
            return None
        match = request.resolver_match
        if match.route.startswith("api/") or match.url_name in self.ALWAYS_OPEN:
            return None
        step = accounts.second_factor_step(user)
        if step is None:
            accounts.second_factor_passed(request)
            return None
        target = "otp-verify" if step == accounts.SecondFactorStep.VERIFY else "otp-enrol"
        if match.url_name == target:
            return None
        if step == accounts.SecondFactorStep.ENROL:
            messages.info(request, _("您担任的角色要求启用双因素认证：请先绑定验证器，再继续使用系统。"))
        return _redirect(request, _with_next(resolve_url(target), _current_page(request)))
