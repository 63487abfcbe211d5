import io

import pytest

from tests.factories import delivery_of, issue, person
from units.models import Role
from workflow import services


@pytest.fixture(autouse=True)
def _plain_http_cookies(settings):
    # Django's test client talks plain HTTP and so keeps back cookies marked Secure.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False


def sign_in(client, user) -> None:
    # Name the backend: the first one configured is django-axes', which only refuses logins. Log in
    # the stored user: the factory's in-memory one carries a password hash that was never saved, and
    # the session's hash would not match.
    stored = type(user).objects.get(pk=user.pk)
    client.force_login(stored, backend="django.contrib.auth.backends.ModelBackend")


def attach(actor, document, name: str = "名单.txt", text: str = "附件内容\n"):
    return services.attachment_add(actor=actor, document=document, name=name, stream=io.BytesIO(text.encode()))


def issue_with_attachments(world, *, attachments: int = 1, main=None, **overrides):
    """The department issues a telegram to education (only), with attachments; routed in-process."""
    document = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=_telegram(**overrides),
        main_recipients=main or [world.education],
        number_prefix="内组电明字",
    )
    for index in range(attachments):
        attach(world.zzb, document, name=f"附件{index + 1}.txt", text=f"第{index + 1}个附件\n")
    services.document_sign_off(actor=world.zzb_leader, document=document)
    dispatch = services.document_issue(actor=world.zzb, document=document)
    services.dispatch_route(dispatch_id=dispatch.pk)
    document.refresh_from_db()
    return document


def _telegram(**overrides):
    from tests.factories import content

    values = {
        "kind": "明传电报",
        "urgency": "特提",
        "title": "关于做好测试工作的紧急通知",
        "page_count": 4,
        "telegram_send_to": "见报头",
        "telegram_approval_office": "机要三",
        "telegram_approver": "李玉刚",
        "telegram_seal": "发电专用章",
    }
    values.update(overrides)
    return content(**values)


@pytest.fixture
def scenario(world):
    """The department's telegram T (one attachment) delivered to education only; education signed
    for it and drafted a forward C to its universities (not yet signed off)."""
    telegram = issue_with_attachments(world)
    received = delivery_of(telegram, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=received.pk)
    cover = services.document_forward(actor=world.jygw, delivery=received, main_recipients=[world.groups["各高校党委"]])
    world.people["region_clerk"] = person(world.region, Role.CLERK, username="region_clerk")
    return {
        "telegram": telegram,
        "received": received,
        "cover": cover,
        "attachment": telegram.attachments.get(),
    }


__all__ = ["attach", "issue", "issue_with_attachments", "sign_in"]
