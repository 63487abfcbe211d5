"""The documents the layout is measured on (issue 13): the seed, and one each of a 函, a 通知 with
附件 and 抄送, and a 转发 with a 版记. Built unsaved (rendering reads nothing else of them), so that
each is the same document in every test, the reference pictures and the README's table.
"""

import datetime

from documents.importing import parse_text
from documents.models import Document, Kind, Urgency
from tests.documents.importing_helpers import seed_bytes, seed_text
from workflow import services

# The seed's cover letter and the telegram it encloses, then the three built here.
NAMES = ("cover", "telegram", "letter", "notice", "forward")


def _document(world, **elements) -> Document:
    values = {
        "issuing_unit": world.department,
        "issuer_mark": "中共内蒙古自治区委员会组织部文件",
        "kind": Kind.NOTICE,
        "urgency": Urgency.ROUTINE,
        "signature_organ": "中共内蒙古自治区委员会组织部",
        "written_on": datetime.date(2022, 10, 13),
        "number_prefix": "内组字",
        "number_year": 2022,
        "number_serial": 35,
        **elements,
    }
    return Document(**values)


def letter(world) -> Document:
    """A 函 of the education committee to a university: the letter format (信函格式, 10.1), sealed."""
    return _document(
        world,
        issuing_unit=world.education,
        issuer_mark="中共内蒙古自治区教育工作委员会",
        kind=Kind.LETTER,
        title="关于商请协助做好高校毕业生党员组织关系转接工作的函",
        main_recipients_text="内蒙古大学党委：",
        body=(
            "为做好2022届高校毕业生党员组织关系转接工作，确保毕业生党员及时融入组织、参加组织生活，"
            "现商请你校协助做好以下工作：\n"
            "一、对本校毕业生党员逐一摸排，于10月31日前报送去向信息。\n"
            "二、对暂未落实工作单位的毕业生党员，做好组织关系保留和联系工作。\n"
            "请予支持为盼。"
        ),
        signature_organ="中共内蒙古自治区教育工作委员会",
        seal_note="中共内蒙古自治区教育工作委员会印",
        number_prefix="内教工委函",
        number_serial=96,
    )


def notice(world) -> Document:
    """A 通知 with two 附件 and a 抄送, sealed, with headings of both levels: the 文件 format."""
    return _document(
        world,
        title="关于开展2022年度基层党组织书记抓基层党建工作述职评议考核的通知",
        main_recipients_text="各盟市委组织部，自治区各直属党（工）委：",
        body=(
            "按照中央组织部有关要求，经自治区党委同意，现就开展2022年度基层党组织书记抓基层党建工作"
            "述职评议考核有关事项通知如下。\n"
            "一、考核范围\n"
            "各盟市、旗县（市、区）和苏木乡镇（街道）党（工）委书记，自治区各直属党（工）委书记。\n"
            "二、方法步骤\n"
            "（一）个人述职。述职人员围绕履行抓基层党建工作责任情况撰写述职报告。\n"
            "（二）评议考核。采取现场述职、书面述职相结合的方式进行，综合评定考核等次。\n"
            "三、有关要求\n"
            "各地各部门要高度重视，精心组织实施，于2023年1月20日前将工作总结报送自治区党委组织部。"
        ),
        attachment_note="附件：1. 述职评议考核工作方案\n2. 述职评议考核评价表",
        seal_note="中共内蒙古自治区委员会组织部印",
        cc_text="中央组织部组织二局，自治区党委办公厅",
        printing_organ="中共内蒙古自治区委员会组织部办公室",
        printed_on=datetime.date(2022, 10, 14),
    )


def forward(world) -> Document:
    """A 转发 of the university's party committee with a 版记 (抄送, 印发机关 and 印发日期), unsealed."""
    return _document(
        world,
        issuing_unit=world.university,
        issuer_mark="中共内蒙古大学委员会文件",
        title="中共内蒙古大学委员会转发关于进一步发挥基层党组织战斗堡垒和党员先锋模范作用的通知",
        main_recipients_text="各学院党委，机关各部门：",
        body=(
            "现将自治区党委组织部《关于进一步发挥基层党组织战斗堡垒和党员先锋模范作用在打赢疫情防控"
            "攻坚战中切实担当作为的通知》（内组电明字〔2022〕11号）转发给你们，请结合实际，认真贯彻落实。"
        ),
        signature_organ="中共内蒙古大学委员会",
        cc_text="自治区教育工委",
        printing_organ="中共内蒙古大学委员会办公室",
        printed_on=datetime.date(2022, 10, 14),
        number_prefix="内大党发",
        number_serial=1,
        written_on=datetime.date(2022, 10, 14),
    )


BUILDERS = {"letter": letter, "notice": notice, "forward": forward}


def documents(name: str, world) -> dict[str, Document]:
    """The specimen `name` by its name; the seed's two documents together, as one registration of
    the seed (by 内蒙古大学党委) makes them."""
    if name in ("cover", "telegram"):
        registration = services.document_register_received(
            actor=None,
            unit=world.university,
            parsed=parse_text(seed_text()),
            source=services.SourceFile.of("seed.txt", seed_bytes()),
        )
        telegram, cover = registration.created
        return {"cover": cover, "telegram": telegram}
    return {name: BUILDERS[name](world)}
