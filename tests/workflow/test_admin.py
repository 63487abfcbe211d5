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
