"""Calling /api/v1/ as another system does: a bearer credential (a person's token or a client's key)."""

import io
import json

import pytest
from django.contrib.auth import get_user_model

from api.services import api_client_create
from workflow.api import api_token_for


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("root-admin", password="x")


@pytest.fixture
def make_client(admin_user):
    """make_client(unit, *scopes, rate_limit_per_minute=600) -> (ApiClient, key)."""

    def make(unit, *scopes, name=None, rate_limit_per_minute=600):
        return api_client_create(
            actor=admin_user,
            unit=unit,
            name=name or f"系统-{'-'.join(scopes)}",
            scopes=list(scopes),
            rate_limit_per_minute=rate_limit_per_minute,
        )

    return make


def bearer(who) -> dict:
    """The Authorization header for a person (a token) or a client's key (a str)."""
    credential = who if isinstance(who, str) else api_token_for(who)
    return {"Authorization": f"Bearer {credential}"}


class Api:
    """The Django test client, speaking JSON with a credential."""

    def __init__(self, client):
        self.client = client

    def get(self, path, who=None, *, headers=None, **params):
        return self.client.get(path, params, headers={**(bearer(who) if who else {}), **(headers or {})})

    def post(self, path, who=None, body=None, *, headers=None):
        return self.client.post(
            path,
            json.dumps(body) if body is not None else b"",
            content_type="application/json",
            headers={**(bearer(who) if who else {}), **(headers or {})},
        )


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def scenario(world, settings, tmp_path):
    """Education's mail, in every state a recipient and an issuer meet, all made by the services:

    - `telegram`: the department's 特提 telegram (one attachment) to education, signed for and
      forwarded by `cover` to its universities (issued, routed: `cover_dispatch`, and `issued`, the
      university's delivery of it, pending);
    - `pending`, `returned`, `signed`, `completed` (with a file), `recalled`: deliveries to education;
    - `draft`: a draft of education, not yet signed off; `signed_off`: one signed off, not issued;
    - notifications of every delivery above, for the clerks of their units.
    """
    from tests.factories import content, delivery_of, forward, issue
    from workflow import services
    from workflow.models import ReturnReason

    settings.MEDIA_ROOT = tmp_path
    telegram = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=content(
            kind="明传电报",
            urgency="特提",
            title="关于做好测试工作的紧急通知",
            page_count=4,
            telegram_send_to="见报头",
            telegram_approval_office="机要三",
            telegram_approver="李玉刚",
            telegram_seal="发电专用章",
        ),
        main_recipients=[world.education],
        number_prefix="内组电明字",
    )
    services.attachment_add(actor=world.zzb, document=telegram, name="名单.txt", stream=io.BytesIO("名单\n".encode()))
    services.document_sign_off(actor=world.zzb_leader, document=telegram)
    dispatches = [services.document_issue(actor=world.zzb, document=telegram)]
    services.dispatch_route(dispatch_id=dispatches[0].pk)
    telegram.refresh_from_db()
    received = delivery_of(telegram, world.education)
    cover, cover_dispatch = forward(world.jygw, received, main=[world.groups["各高校党委"]])
    dispatches.append(cover_dispatch)

    def to_education(title: str, **overrides):
        document, dispatch = issue(world.zzb, world.department, main=[world.education], title=title, **overrides)
        dispatches.append(dispatch)
        return delivery_of(document, world.education)

    pending = to_education("关于报送材料的通知", urgency="特急")
    returned = to_education("关于退回的通知")
    services.delivery_return(actor=world.jygw, delivery_id=returned.pk, reason=ReturnReason.NOT_COMPETENT)
    completed = to_education("关于办结的通知")
    services.delivery_sign_for(actor=world.jygw, delivery_id=completed.pk)
    services.delivery_complete(
        actor=world.jygw, delivery_id=completed.pk, feedback="已办结。", attachments=[("落实.txt", io.BytesIO(b"ok"))]
    )
    signed = to_education("关于落实的通知")
    services.delivery_sign_for(actor=world.jygw, delivery_id=signed.pk)
    recalled = to_education("关于撤回的通知")
    services.delivery_recall(actor=world.zzb, delivery_id=recalled.pk, reason="发错了")
    draft = services.document_draft(
        actor=world.jygw,
        unit=world.education,
        content=content(title="关于开展自查的通知"),
        main_recipients=[world.university],
        number_prefix="内教工委函",
    )
    signed_off = services.document_draft(
        actor=world.jygw,
        unit=world.education,
        content=content(title="关于组织培训的通知"),
        main_recipients=[world.university],
        number_prefix="内教工委函",
    )
    services.document_sign_off(actor=world.jygw_leader, document=signed_off)
    for dispatch in dispatches:
        services.dispatch_notify(dispatch_id=dispatch.pk)
    return {
        "telegram": telegram,
        "attachment": telegram.attachments.get(),
        "received": received,
        "cover": cover,
        "cover_dispatch": cover_dispatch,
        "issued": delivery_of(cover, world.university),
        "pending": pending,
        "returned": returned,
        "completed": completed,
        "completion_file": completed.completion.attachments.get(),
        "signed": signed,
        "recalled": recalled,
        "draft": draft,
        "signed_off": signed_off,
    }
