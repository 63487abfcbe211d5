"""Keeping the search index (DocumentSearch) current: called by the services that draft, edit,
issue or register documents, in their transaction, and by the migration that filled it.

Three queries for any number of documents (the documents with their issuing units, their
attachments' names, one upsert of the rows and their months): a registration that creates a
document and what it encloses indexes them together.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.db import connection

from documents.models import Attachment, Document, DocumentSearch, SearchPeriod
from documents.search import search_period, vector_literal


def heading_texts(document: Document) -> tuple[str, ...]:
    """The heading, ranked first: number, title, issuer (the unit's name and 发文机关标志)."""
    return (document.number, document.title, f"{document.issuing_unit.name} {document.issuer_mark}")


def search_texts(document: Document, attachment_names: list[str]) -> tuple[str, ...]:
    """What a document is found by, in order: the heading, the body, the attachments' names."""
    attachments = " ".join([*attachment_names, document.attachment_note])
    return (*heading_texts(document), document.body, attachments)


def document_search_index(document_ids: Iterable[int]) -> int:
    """(Re)write the index rows of these documents; returns how many. Call inside the transaction
    that changed them: the index then never disagrees with a committed document."""
    ids = sorted(set(document_ids))
    if not ids:
        return 0
    documents = list(
        Document.objects.filter(pk__in=ids)
        .select_related("issuing_unit")
        .only(
            "number_prefix",
            "number_year",
            "number_serial",
            "title",
            "issuer_mark",
            "body",
            "attachment_note",
            "issued_at",
            "created_at",
            "issuing_unit__name",
            "issuing_unit_id",
        )
    )
    names: dict[int, list[str]] = defaultdict(list)
    for document_id, name in Attachment.objects.filter(document_id__in=ids).values_list("document_id", "name"):
        names[document_id].append(name)
    rows = []
    for document in documents:
        dated_at = document.issued_at or document.created_at
        rows.append(
            (
                document.pk,
                dated_at,
                search_period(dated_at),
                document.issuing_unit_id,
                vector_literal(*search_texts(document, names[document.pk])),
                vector_literal(*heading_texts(document)),
            )
        )
    periods = sorted({row[2] for row in rows})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH months AS (INSERT INTO documents_searchperiod (period) SELECT unnest(%s::int[]) "
                "ON CONFLICT DO NOTHING) "
                "INSERT INTO documents_documentsearch "
                "(document_id, dated_at, period, issuing_unit_id, vector, heading) "
                "SELECT * FROM unnest(%s::bigint[], %s::timestamptz[], %s::int[], %s::bigint[], %s::tsvector[], "
                "%s::tsvector[]) ON CONFLICT (document_id) DO UPDATE SET dated_at = EXCLUDED.dated_at, "
                "period = EXCLUDED.period, issuing_unit_id = EXCLUDED.issuing_unit_id, vector = EXCLUDED.vector, "
                "heading = EXCLUDED.heading",
                [periods, *(list(column) for column in zip(*rows, strict=True))],
            )
    else:
        SearchPeriod.objects.bulk_create([SearchPeriod(period=p) for p in periods], ignore_conflicts=True)
        DocumentSearch.objects.bulk_create(
            [
                DocumentSearch(
                    document_id=r[0], dated_at=r[1], period=r[2], issuing_unit_id=r[3], vector=r[4], heading=r[5]
                )
                for r in rows
            ],
            update_conflicts=True,
            unique_fields=["document"],
            update_fields=["dated_at", "period", "issuing_unit", "vector", "heading"],
        )
    return len(rows)
