"""The 公文 elements are defined once (documents.elements); everything that lists them honours the list.

An element added to the list and not honoured somewhere, or a content column added to the model and
not to the list, fails one of these tests.
"""

import dataclasses
import datetime
import re

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import NOT_PROVIDED
from django.urls import reverse

from documents.content import DocumentContent
from documents.digest import CONTENT_FIELDS
from documents.elements import DRAFTED_ELEMENTS, ELEMENTS, Fallback, Value
from documents.importing import ParsedDocument
from documents.models import Document, DocumentElements
from tests.factories import issue
from tests.web.conftest import sign_in
from units.errors import InvalidInput
from web.forms import DraftForm
from workflow import services
from workflow.services import SourceFile

NAMES = {element.name for element in ELEMENTS}

# The columns of a Document that are not elements: the issuing unit, the number and the lifecycle.
NOT_ELEMENTS = {
    "id",
    "issuing_unit",
    "number_prefix",
    "number_year",
    "number_serial",
    "state",
    "created_by",
    "created_at",
    "signed_off_by",
    "signed_off_at",
    "issued_by",
    "issued_at",
    "digest",
    "title_breaks",
}

# Frozen at issue too (migrations 0003 and 0005), though not elements.
FROZEN_NOT_ELEMENTS = {
    "title_breaks",
    "issuing_unit_id",
    "number_prefix",
    "number_year",
    "number_serial",
    "digest",
    "state",
    "issued_at",
    "issued_by_id",
}

# A value of every element, each different from a default and valid together (printed after written).
EVERY_ELEMENT = {
    "copy_number": "000123",
    "classification": "内部",
    "classification_period": "长期",
    "urgency": "特急",
    "issuer_mark": "中共内蒙古自治区委员会组织部文件",
    "signatory": "张三",
    "title": "关于加强全要素测试的意见",
    "kind": "意见",
    "main_recipients_text": "各盟市委组织部：",
    "body": "第一段。\n第二段。",
    "attachment_note": "附件：1. 名单",
    "signature_organ": "内蒙古自治区党委组织部",
    "written_on": datetime.date(2022, 10, 12),
    "seal_note": "内蒙古自治区党委组织部印",
    "annotation": "（此件公开发布）",
    "cc_text": "自治区党委办公厅",
    "printing_organ": "内蒙古自治区党委组织部办公室",
    "printed_on": datetime.date(2022, 10, 14),
    "page_count": 4,
    "telegram_send_to": "见报头",
    "telegram_approval_office": "机要三",
    "telegram_approver": "李玉刚",
    "telegram_seal": "发电专用章",
}


def _stored(document: Document) -> dict:
    document.refresh_from_db()
    return {name: getattr(document, name) for name in NAMES}


# --- the list itself ---------------------------------------------------------------------------------


def test_each_element_has_its_own_name_and_label():
    assert len(NAMES) == len(ELEMENTS) == len({str(element.label) for element in ELEMENTS})
    assert set(EVERY_ELEMENT) == NAMES


# --- the model -----------------------------------------------------------------------------------------


def test_every_column_of_a_document_is_an_element_or_its_unit_number_and_lifecycle():
    columns = {field.name for field in Document._meta.concrete_fields}
    assert columns == NAMES | NOT_ELEMENTS
    assert not NAMES & NOT_ELEMENTS


def test_the_element_columns_come_from_the_list_alone():
    assert {field.name for field in DocumentElements._meta.fields} == NAMES
    for element in ELEMENTS:
        field = Document._meta.get_field(element.name)
        optional = not element.required
        assert (field.verbose_name, field.blank) == (element.label, optional), element.name
        assert field.null == (optional and element.value in (Value.DATE, Value.COUNT)), element.name
        assert field.max_length == element.max_length, element.name
        assert field.choices == (element.choices.choices if element.choices else None), element.name
        assert field.default == (NOT_PROVIDED if element.default is None else element.default), element.name


@pytest.mark.django_db
def test_the_model_needs_no_migration_the_repository_lacks():
    call_command("makemigrations", "documents", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_the_frozen_document_trigger_names_every_element_column():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger"
            " WHERE tgname = 'document_issued_is_frozen' AND tgrelid = 'documents_document'::regclass"
        )
        (definition,) = cursor.fetchone()
    old = set(re.findall(r"\bold\.(\w+)", definition, re.IGNORECASE))
    new = set(re.findall(r"\bnew\.(\w+)", definition, re.IGNORECASE))
    columns = {Document._meta.get_field(name).column for name in NAMES}
    assert new - columns == FROZEN_NOT_ELEMENTS
    assert columns - new == set()
    assert old == new


def test_an_issued_document_refuses_a_change_of_any_element(world):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    assert [name for name, value in EVERY_ELEMENT.items() if getattr(document, name) == value] == []
    changed = []
    for name, value in EVERY_ELEMENT.items():
        try:
            with transaction.atomic():
                Document.objects.filter(pk=document.pk).update(**{name: value})
        except IntegrityError:
            continue
        changed.append(name)
    assert changed == []


# --- the digest, what a drafter writes, the importer's result -------------------------------------------


def test_the_digest_covers_the_elements():
    assert len(CONTENT_FIELDS) == len(set(CONTENT_FIELDS))
    assert set(CONTENT_FIELDS) == NAMES


def test_document_content_has_each_element_with_its_default():
    fields = {field.name: field.default for field in dataclasses.fields(DocumentContent)}
    assert set(fields) == NAMES
    must_be_given = {name for name, default in fields.items() if default is dataclasses.MISSING}
    assert must_be_given == {"kind", "title", "body"}
    assert {name: default for name, default in fields.items() if name not in must_be_given} == {
        "copy_number": "",
        "classification": "公开",
        "classification_period": "",
        "urgency": "普通",
        "issuer_mark": "",
        "signatory": "",
        "main_recipients_text": "",
        "attachment_note": "",
        "signature_organ": "",
        "written_on": None,
        "seal_note": "",
        "annotation": "",
        "cc_text": "",
        "printing_organ": "",
        "printed_on": None,
        "page_count": None,
        "telegram_send_to": "",
        "telegram_approval_office": "",
        "telegram_approver": "",
        "telegram_seal": "",
    }
    assert DocumentContent(**EVERY_ELEMENT).cleaned() == DocumentContent(**EVERY_ELEMENT)


@pytest.mark.parametrize("element", [e for e in ELEMENTS if e.value is Value.LINE], ids=lambda e: e.name)
def test_a_one_line_element_too_long_for_its_column_is_refused_by_name(element):
    too_long = "长" * (element.max_length + 1)
    with pytest.raises(InvalidInput) as refused:
        DocumentContent(**{**EVERY_ELEMENT, element.name: too_long}).cleaned()
    assert refused.value.message == (
        f"{element.label}过长（{element.max_length + 1} 字，上限 {element.max_length} 字）。"
    )


def test_a_one_line_element_is_stored_as_one_line():
    cleaned = DocumentContent(
        **{**EVERY_ELEMENT, "telegram_approver": " 李\n玉刚 ", "printing_organ": "办公室  秘书处"}
    ).cleaned()
    assert (cleaned.telegram_approver, cleaned.printing_organ) == ("李 玉刚", "办公室 秘书处")
    assert cleaned.body == "第一段。\n第二段。"  # paragraphs keep their lines


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": ""}, "文种不能为空。"),
        ({"classification": "公布"}, "密级“公布”不存在，可选：公开、内部、秘密、机密、绝密。"),
        ({"page_count": 10000}, "页数 10000 不合理（1 至 9999）。"),
    ],
)
def test_an_element_is_checked_by_its_definition(changes, message):
    with pytest.raises(InvalidInput) as refused:
        DocumentContent(**{**EVERY_ELEMENT, **changes}).cleaned()
    assert refused.value.message == message


def test_the_importer_result_carries_every_element_it_reads():
    attributes = {field.name for field in dataclasses.fields(ParsedDocument)}
    read = {element.name: element.parsed_attribute for element in ELEMENTS if element.imported}
    assert set(read.values()) <= attributes
    assert NAMES - set(read) == {"seal_note"}  # a seal is an image, never read from a text
    assert {name: attribute for name, attribute in read.items() if name != attribute} == {"signatory": "signer"}


def _parsed_with_every_element() -> ParsedDocument:
    parsed = ParsedDocument(number="内组字〔2022〕7号", issuer="自治区党委组织部")
    for element in ELEMENTS:
        if element.imported:
            setattr(parsed, element.parsed_attribute, EVERY_ELEMENT[element.name])
    return parsed


def test_the_importer_result_gives_every_element_it_read_under_the_elements_name():
    assert _parsed_with_every_element().element_values() == {
        name: value for name, value in EVERY_ELEMENT.items() if name != "seal_note"
    }
    assert ParsedDocument(title="标题", body="", page_count=None).element_values() == {"title": "标题"}


def test_registration_stores_every_element_the_text_gives(world):
    registration = services.document_register_received(
        actor=world.jygw,
        unit=world.education,
        parsed=_parsed_with_every_element(),
        source=SourceFile.of("全要素.txt", b"..."),
    )

    assert registration.document.issuing_unit == world.department
    assert _stored(registration.document) == {**EVERY_ELEMENT, "seal_note": ""}


# --- drafting ------------------------------------------------------------------------------------------


def test_a_draft_stores_every_element_it_is_given(world):
    document = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=DocumentContent(**EVERY_ELEMENT),
        main_recipients=[world.education],
        cc_recipients=[world.other],
    )

    assert _stored(document) == EVERY_ELEMENT


def test_a_draft_derives_each_element_with_a_fallback_from_its_unit_and_recipients(world):
    given = {element.name: EVERY_ELEMENT[element.name] for element in ELEMENTS if element.fallback is None}
    document = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=DocumentContent(**given),
        main_recipients=[world.groups["各直属党委"], world.university],
        cc_recipients=[world.other],
    )

    assert {element.name: element.fallback for element in ELEMENTS if element.fallback} == {
        "issuer_mark": Fallback.ISSUING_UNIT,
        "main_recipients_text": Fallback.MAIN_RECIPIENTS,
        "signature_organ": Fallback.ISSUING_UNIT,
        "cc_text": Fallback.CC_RECIPIENTS,
    }
    assert _stored(document) == {
        **given,
        "issuer_mark": "自治区党委组织部",
        "signature_organ": "自治区党委组织部",
        "main_recipients_text": "各直属党委、内蒙古大学党委：",
        "cc_text": "自治区直属机关工委",
    }


def test_the_draft_form_asks_for_the_drafted_elements_and_the_draft_itself(world):
    form = DraftForm(unit=world.department)

    assert {name for name in form.fields if name in NAMES} == {element.name for element in DRAFTED_ELEMENTS}
    assert set(form.fields) - NAMES == {
        "number_prefix",
        "main_groups",
        "main_units",
        "cc_groups",
        "cc_units",
        "attachments",
    }


def test_the_draft_form_gives_the_content_of_every_drafted_element(world):
    drafted = {element.name: EVERY_ELEMENT[element.name] for element in DRAFTED_ELEMENTS}
    posted = {name: value.isoformat() if isinstance(value, datetime.date) else value for name, value in drafted.items()}
    form = DraftForm({**posted, "number_prefix": "内组字", "main_units": [world.education.pk]}, unit=world.department)

    assert form.is_valid(), form.errors
    assert form.content() == DocumentContent(**drafted)


def test_the_draft_page_shows_an_input_for_every_drafted_element(client, world, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    sign_in(client, world.zzb)

    html = client.get(reverse("document-new")).content.decode()

    missing = [element.name for element in DRAFTED_ELEMENTS if f'name="{element.name}"' not in html]
    assert missing == []
