"""全文检索 by month: each search row's month (period) and its document's issuing unit (the door
tests it on the row), the months that hold any (SearchPeriod), and
the GIN indexes led by the month (btree_gin), so that the search walks months newest first and a
month's matches cost the same in any size of archive (workflow.search; README, "Search").

PostgreSQL: btree_gin is a trusted extension (PostgreSQL 13+): a database owner may create it. The
embedded SQLite default has no GIN; it gets the column and the months only.
"""

import django.db.models.deletion
from django.db import migrations, models

from documents.search import search_period

BATCH = 2000

POSTGRES_FORWARD = """
CREATE EXTENSION IF NOT EXISTS btree_gin;
SET LOCAL maintenance_work_mem = '256MB';
UPDATE documents_documentsearch SET issuing_unit_id = d.issuing_unit_id, period = (
    extract(year FROM dated_at AT TIME ZONE 'Asia/Shanghai') * 12
    + extract(month FROM dated_at AT TIME ZONE 'Asia/Shanghai') - 1
)::int
FROM documents_document d WHERE d.id = documents_documentsearch.document_id;
INSERT INTO documents_searchperiod (period) SELECT DISTINCT period FROM documents_documentsearch
    ON CONFLICT DO NOTHING;
DROP INDEX IF EXISTS document_search_vector, document_search_heading;
CREATE INDEX IF NOT EXISTS document_search_period_vector ON documents_documentsearch USING gin (period, vector);
CREATE INDEX IF NOT EXISTS document_search_period_heading ON documents_documentsearch USING gin (period, heading);
"""

POSTGRES_BACKWARD = """
DROP INDEX IF EXISTS document_search_period_vector, document_search_period_heading;
CREATE INDEX IF NOT EXISTS document_search_vector ON documents_documentsearch USING gin (vector);
CREATE INDEX IF NOT EXISTS document_search_heading ON documents_documentsearch USING gin (heading);
"""


def fill(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)
        return
    DocumentSearch = apps.get_model("documents", "DocumentSearch")
    SearchPeriod = apps.get_model("documents", "SearchPeriod")
    last, periods = 0, set()
    while batch := list(DocumentSearch.objects.filter(pk__gt=last).select_related("document").order_by("pk")[:BATCH]):
        last = batch[-1].pk
        for row in batch:
            row.period = search_period(row.dated_at)
            row.issuing_unit_id = row.document.issuing_unit_id
            periods.add(row.period)
        DocumentSearch.objects.bulk_update(batch, ["period", "issuing_unit"])
    SearchPeriod.objects.bulk_create([SearchPeriod(period=p) for p in sorted(periods)], ignore_conflicts=True)


def unfill(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0008_chains_list_order_index"),
        ("units", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchPeriod",
            fields=[("period", models.IntegerField(primary_key=True, serialize=False))],
            options={
                "verbose_name": "检索月份",
                "verbose_name_plural": "检索月份",
                "default_permissions": (),
            },
        ),
        migrations.AddField(
            model_name="documentsearch",
            name="period",
            field=models.IntegerField(null=True),
        ),
        migrations.AddField(
            model_name="documentsearch",
            name="issuing_unit",
            field=models.ForeignKey(
                null=True,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="units.unit",
            ),
        ),
        migrations.RunPython(fill, unfill),
        migrations.AlterField(
            model_name="documentsearch",
            name="period",
            field=models.IntegerField(),
        ),
        migrations.AlterField(
            model_name="documentsearch",
            name="issuing_unit",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="units.unit",
            ),
        ),
    ]
