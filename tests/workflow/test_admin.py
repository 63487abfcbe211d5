import io

import pytest
from django.urls import reverse

from documents.models import NumberSeries
from tests.factories import UserFactory, issue
from units.models import Unit, UnitUserObjectPermission
from workflow.models import AuditEvent, AuditVerb


@pytest.fixture
def superuser_client(client, world):
    admin = UserFactory(username="root-admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "units/unit",
        "units/unituserobjectpermission",
        "units/unitgroupobjectpermission",
        "units/recipientgroup",
        "documents/numberseries",
        "documents/document",
        "workflow/dispatch",
        "workflow/delivery",
        "workflow/receipt",
        "workflow/notification",
        "workflow/auditevent",
        "exchange/peer",
        "exchange/outgoingconsignment",
        "exchange/outgoingreceipt",
        "exchange/outgoingrecall",
        "exchange/receivedconsignment",
        "exchange/receivedreceipt",
        "exchange/receivedrecall",
    ],
)
def test_every_admin_list_opens(superuser_client, world, model):
    issue(world.zzb, world.department, main=[world.education])
    app, name = model.split("/")
    assert superuser_client.get(reverse(f"admin:{app}_{name}_changelist")).status_code == 200


def test_adding_a_unit_in_the_admin_goes_through_the_audited_service(superuser_client, world):
    response = superuser_client.post(
        reverse("admin:units_unit_add"),
        {
            "name": "中共内蒙古财经大学委员会",
            "short_name": "内蒙古财经大学党委",
            "kind": "university_committee",
            "parent": world.education.pk,
            "number_prefixes": "内财大党发 内财大党函",
            "mongolian_name": "",
        },
    )
    assert response.status_code == 302
    unit = Unit.objects.get(name="中共内蒙古财经大学委员会")
    assert unit.path == f"{world.education.path}{unit.pk}/"
    assert list(unit.number_prefixes.values_list("prefix", "is_default")) == [
        ("内财大党发", True),
        ("内财大党函", False),
    ]
    assert AuditEvent.objects.filter(verb=AuditVerb.UNIT_CREATED, object_id=str(unit.pk)).count() == 1


def test_granting_a_role_in_the_admin_is_audited(superuser_client, world):
    response = superuser_client.post(
        reverse("admin:units_unituserobjectpermission_add"),
        {"user": world.other_clerk.pk, "unit": world.education.pk, "role": "signer"},
    )
    assert response.status_code == 302
    assert UnitUserObjectPermission.objects.filter(
        user=world.other_clerk, content_object=world.education, permission__codename="signer"
    ).exists()
    granted = AuditEvent.objects.filter(
        verb=AuditVerb.ROLE_GRANTED, unit=world.education, object_id=str(world.other_clerk.pk)
    )
    assert [event.payload["role"] for event in granted] == ["signer"]


def test_setting_a_series_in_the_admin_is_audited(superuser_client, world):
    prefix = world.department.number_prefixes.get(prefix="内组字")
    response = superuser_client.post(
        reverse("admin:documents_numberseries_add"), {"prefix": prefix.pk, "year": 2026, "last_serial": 41}
    )
    assert response.status_code == 302
    assert NumberSeries.objects.get(prefix=prefix, year=2026).last_serial == 41
    assert AuditEvent.objects.filter(verb=AuditVerb.NUMBER_SERIES_SET).count() == 1


def test_a_staff_member_who_is_not_a_superuser_cannot_change_the_directory(client, world, nothing_written):
    staff = UserFactory(username="staff", is_staff=True)
    client.force_login(staff)
    with nothing_written():
        response = client.post(reverse("admin:units_unit_add"), {"name": "X", "short_name": "X", "kind": "other"})
    assert response.status_code == 403


# --- What the admin shows: no document content ------------------------------------------------------


def test_the_document_admin_shows_number_title_unit_state_and_dates_only(superuser_client, world):
    document, _ = issue(
        world.zzb, world.department, main=[world.education], title="关于测试的通知", body="正文中的秘密内容"
    )
    listing = superuser_client.get(reverse("admin:documents_document_changelist")).content.decode()
    detail = superuser_client.get(reverse("admin:documents_document_change", args=[document.pk]))
    assert detail.status_code == 200
    page = detail.content.decode()
    for html in (listing, page):
        assert document.number in html
        assert "关于测试的通知" in html
        assert "自治区党委组织部" in html
        assert "正文中的秘密内容" not in html
        assert "各单位要认真" not in html
    for element in ("正文", "主送机关", "附件说明", "签批人", "发往", "内容摘要"):
        assert f">{element}:<" not in page, element


def test_the_admin_links_no_file_and_shows_no_feedback_notification_text_or_audit_payload(superuser_client, world):
    from tests.web.conftest import issue_with_attachments
    from workflow import services
    from workflow.models import Completion, Notification

    document = issue_with_attachments(world, body="电报正文")
    delivery = document.deliveries.get(unit=world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    completion = services.delivery_complete(
        actor=world.jygw,
        delivery_id=delivery.pk,
        feedback="落实情况：已传达",
        attachments=[("落实情况.txt", io.BytesIO("附件正文\n".encode()))],
    )
    notification = Notification.objects.order_by("pk").first()
    event = AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_COMPLETED).get()
    pages = [
        reverse("admin:workflow_completion_changelist"),
        reverse("admin:workflow_completion_change", args=[completion.pk]),
        reverse("admin:workflow_notification_changelist"),
        reverse("admin:workflow_auditevent_change", args=[event.seq]),
        reverse("admin:documents_document_change", args=[document.pk]),
    ]
    for url in pages:
        response = superuser_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "落实情况：已传达" not in html, url
        assert notification.text not in html, url
        assert "电报正文" not in html, url
        assert "/media/" not in html, url
    assert Completion.objects.get().feedback == "落实情况：已传达"
    # A notification's name is its text: it has no page in the admin.
    assert (
        superuser_client.get(reverse("admin:workflow_notification_change", args=[notification.pk])).status_code == 403
    )


# --- Refusals are form errors: status 200, the message on the page, nothing written ----------------


def _refused(client, url: str, data: dict, message: str, nothing_written) -> None:
    with nothing_written():
        response = client.post(url, data)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_adding_a_unit_with_a_prefix_of_another_unit_is_a_form_error(superuser_client, world, nothing_written):
    data = {
        "name": "中共内蒙古财经大学委员会",
        "short_name": "内蒙古财经大学党委",
        "kind": "university_committee",
        "parent": world.education.pk,
        "number_prefixes": "内教工委函",
        "mongolian_name": "",
    }
    _refused(
        superuser_client,
        reverse("admin:units_unit_add"),
        data,
        "发文字号前缀“内教工委函”已被其他单位使用。",
        nothing_written,
    )
    assert not Unit.objects.filter(name="中共内蒙古财经大学委员会").exists()


def test_adding_a_unit_under_a_name_that_exists_is_a_form_error(superuser_client, world, nothing_written):
    data = {
        "name": "自治区教育工委",
        "short_name": "教育工委",
        "kind": "other",
        "number_prefixes": "",
        "mongolian_name": "",
    }
    with nothing_written():
        response = superuser_client.post(reverse("admin:units_unit_add"), data)
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert Unit.objects.filter(name="自治区教育工委").count() == 1


def test_a_unit_is_shown_not_changed_in_the_admin(superuser_client, world, nothing_written):
    """Its page changes how it prints only (tests/workflow/test_letterhead.py): a name posted there is
    not taken, and nothing is written."""
    from tests.workflow.test_letterhead import change_form

    url = reverse("admin:units_unit_change", args=[world.education.pk])
    assert superuser_client.get(url).status_code == 200
    posted = change_form(superuser_client, world.education, name="改名", kind="other", parent="")
    with nothing_written():
        assert superuser_client.post(url, posted).status_code == 302
    assert Unit.objects.get(pk=world.education.pk).name == "自治区教育工委"


def test_a_bad_deadline_policy_is_a_form_error(superuser_client, world, nothing_written):
    from workflow.models import DeadlinePolicy

    policy = DeadlinePolicy.objects.get(urgency="特提")
    data = {
        "sign_for_amount": 100000,
        "sign_for_unit": "minutes",
        "complete_amount": 1,
        "complete_unit": "working_days",
    }
    _refused(
        superuser_client,
        reverse("admin:workflow_deadlinepolicy_change", args=[policy.pk]),
        data,
        "签收时限 100000分钟不合理（1 至 43200）。",
        nothing_written,
    )


def test_moving_a_number_series_below_an_issued_number_is_a_form_error(superuser_client, world, nothing_written):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    series = NumberSeries.objects.get(prefix__prefix="内组电明字", year=2022)
    assert document.number == "内组电明字〔2022〕1号"
    _refused(
        superuser_client,
        reverse("admin:documents_numberseries_change", args=[series.pk]),
        {"last_serial": 0},
        "内组电明字〔2022〕已经用到 1 号，不能改回 0。",
        nothing_written,
    )
    assert NumberSeries.objects.get(pk=series.pk).last_serial == 1


def test_granting_a_role_on_an_inactive_unit_is_a_form_error(superuser_client, world, nothing_written):
    Unit.objects.filter(pk=world.other.pk).update(is_active=False)
    _refused(
        superuser_client,
        reverse("admin:units_unituserobjectpermission_add"),
        {"user": world.imu.pk, "unit": world.other.pk, "role": "clerk"},
        "单位“自治区直属机关工委”已停用，不能授予角色。",
        nothing_written,
    )
    assert not world.other.group.user_set.filter(pk=world.imu.pk).exists()


def test_a_calendar_day_that_changes_nothing_is_a_form_error(superuser_client, world, nothing_written):
    _refused(
        superuser_client,
        reverse("admin:workflow_calendarday_add"),
        {"date": "2026-03-04", "is_working_day": "on", "name": "", "source": ""},
        "2026-03-04是工作日（周一至周五），不需要设为调休上班。",
        nothing_written,
    )


def test_a_recipient_group_without_members_is_a_form_error(superuser_client, world, nothing_written):
    with nothing_written():
        response = superuser_client.post(
            reverse("admin:units_recipientgroup_add"), {"owner": world.education.pk, "name": "空组"}
        )
    assert response.status_code == 200
    assert "errornote" in response.content.decode()


def test_changing_a_deadline_policy_in_the_admin_is_audited(superuser_client, world):
    from workflow.models import DeadlinePolicy

    policy = DeadlinePolicy.objects.get(urgency="特提")
    data = {"sign_for_amount": 45, "sign_for_unit": "minutes", "complete_amount": 2, "complete_unit": "working_days"}
    response = superuser_client.post(reverse("admin:workflow_deadlinepolicy_change", args=[policy.pk]), data)
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.sign_for_amount, policy.complete_amount) == (45, 2)
    assert AuditEvent.objects.filter(verb=AuditVerb.DEADLINE_POLICY_SET).count() == 1


def test_the_admin_shows_otp_devices_without_their_secret(superuser_client, world):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=world.imu, name="验证器", confirmed=True)
    page = superuser_client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).content.decode()
    assert "imu" in page
    assert device.key not in page
    assert "qrcode" not in page
