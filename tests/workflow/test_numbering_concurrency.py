"""Numbers are unique and gapless when many clerks issue at once (DESIGN invariant 2), on PostgreSQL."""

import threading

import pytest
from django.db import connection

from documents.models import Document
from tests.factories import content, person
from units.models import Role
from workflow import services

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_issuers_get_consecutive_numbers_without_gaps_or_duplicates(committed_world):
    world = committed_world
    clerks = [person(world.department, Role.CLERK, Role.SIGNER, Role.DRAFTER) for _ in range(12)]
    world.department.allows_self_sign_off = True  # a one-person office each: only numbering matters here
    world.department.save(update_fields=["allows_self_sign_off"])
    drafts = []
    for clerk in clerks:
        for _ in range(3):
            draft = services.document_draft(
                actor=clerk, unit=world.department, content=content(), main_recipients=[world.education]
            )
            services.document_sign_off(actor=clerk, document=draft)
            drafts.append((clerk, draft))
    barrier = threading.Barrier(len(clerks))
    errors = []

    def issue_all(clerk):
        try:
            barrier.wait()
            for owner, draft in drafts:
                if owner == clerk:
                    services.document_issue(actor=clerk, document=draft)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue_all, args=(clerk,)) for clerk in clerks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    serials = sorted(Document.objects.filter(number_prefix="内组电明字").values_list("number_serial", flat=True))
    assert serials == list(range(1, 37))
