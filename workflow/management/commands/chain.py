import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from documents.models import Document
from documents.numbering import parse_number
from units.errors import DomainError
from workflow.selectors import ChainNode, chain_for_document


class Command(BaseCommand):
    help = "Print the forwarding tree rooted at the document with this number (发文字号)."

    def add_arguments(self, parser):
        parser.add_argument("number", help="e.g. 内组电明字〔2022〕11号")
        parser.add_argument("--json", action="store_true", help="print the tree as JSON")

    def handle(self, *args, number, json: bool = False, **options):
        # A command run on the server by an operator: it sees every chain (the operator has the
        # database anyway). Pages and APIs go through workflow.access instead.
        try:
            parsed = parse_number(number)
        except DomainError as error:
            raise CommandError(str(error)) from error
        document = Document.objects.filter(
            number_prefix=parsed.prefix,
            number_year=parsed.year,
            number_serial=parsed.serial,
            state=Document.State.ISSUED,
        ).first()
        if document is None:
            raise CommandError(f"没有发文字号为 {parsed} 的已印发公文。")
        tree = chain_for_document(document)
        if json:
            self.stdout.write(_dumps(tree.as_json()))
        else:
            self._print(tree, "")

    def _print(self, node: ChainNode, indent: str) -> None:
        signed = sum(1 for d in node.deliveries if d.signed_at)
        self.stdout.write(
            f"{indent}{node.number} 【{node.urgency}】{node.title}\n"
            f"{indent}  {node.issuer}{_where(node.installation)} · 摘要 {node.digest[:16]}… · "
            f"已签收 {signed}/{len(node.deliveries)}"
        )
        for delivery in node.deliveries:
            when = f" 签收 {_local(delivery.signed_at)}" if delivery.signed_at else ""
            due = f" 时限 {_local(delivery.deadline_sign_for)}" if delivery.deadline_sign_for and not when else ""
            urged = f" 催办 {delivery.reminders} 次" if delivery.reminders else ""
            self.stdout.write(
                f"{indent}  ├ {delivery.role} {delivery.unit}{_where(delivery.installation)} "
                f"[{delivery.state}]{when}{due}{urged}"
            )
            for forward in delivery.forwards:
                self._print(forward, indent + "  │   ")


def _where(installation: str | None) -> str:
    """（在B系统） for a unit or document of another installation (公文交换); nothing for this one's."""
    return f"（在{installation}系统）" if installation else ""


def _local(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
