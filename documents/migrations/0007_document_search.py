"""全文检索: the search index beside the documents (DocumentSearch), its GIN index on PostgreSQL, and
the rows of every document already there, built in batches of 2,000 by the tokeniser of
documents.search (a pure function: the same words the services write later).

The embedded SQLite default keeps the rows (text) and searches with LIKE: no GIN there.
"""

import django.db.models.deletion
from django.db import migrations, models

import documents.models

BATCH = 2000


def _number(prefix: str, year: int | None, serial: int | None) -> str:
    return "" if serial is None else f"{prefix}〔{year}〕{serial}号"


def fill(apps, schema_editor) -> None:
    from documents.search import vector_literal

    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS document_search_vector ON documents_documentsearch USING gin (vector)"
        )
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS document_search_heading ON documents_documentsearch USING gin (heading)"
        )
    Document = apps.get_model("documents", "Document")
    Attachment = apps.get_model("documents", "Attachment")
    DocumentSearch = apps.get_model("documents", "DocumentSearch")
    last = 0
    while True:
        batch = list(
            Document.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list(
                "pk",
                "number_prefix",
                "number_year",
                "number_serial",
                "title",
                "issuing_unit__name",
                "issuer_mark",
                "body",
                "attachment_note",
                "issued_at",
                "created_at",
            )[:BATCH]
        )
        if not batch:
            return
        last = batch[-1][0]
        names: dict[int, list[str]] = {}
        for document_id, name in Attachment.objects.filter(document_id__in=[r[0] for r in batch]).values_list(
            "document_id", "name"
        ):
            names.setdefault(document_id, []).append(name)
        rows = []
        for pk, prefix, year, serial, title, unit_name, mark, body, note, issued_at, created_at in batch:
            heading = (_number(prefix, year, serial), title, f"{unit_name} {mark}")
            rows.append(
                DocumentSearch(
                    document_id=pk,
                    dated_at=issued_at or created_at,
                    vector=vector_literal(*heading, body, " ".join([*names.get(pk, []), note])),
                    heading=vector_literal(*heading),
                )
            )
        DocumentSearch.objects.bulk_create(rows, ignore_conflicts=True)


def drop_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS document_search_vector, document_search_heading")


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0006_imported_original"),
    ]

    operations = [
        migrations.CreateModel(
            name="DocumentSearch",
            fields=[
                (
                    "document",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="documents.document",
                    ),
                ),
                ("dated_at", models.DateTimeField()),
                ("vector", documents.models.SearchVectorField()),
                ("heading", documents.models.SearchVectorField()),
            ],
            options={
                "verbose_name": "检索索引",
                "verbose_name_plural": "检索索引",
                "default_permissions": (),
            },
        ),
        migrations.RunPython(fill, drop_index),
    ]
