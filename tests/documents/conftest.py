import datetime

import pytest

from tests.factories import issue


@pytest.fixture
def issued_notice(world):
    """An issued 通知 of the 文件 format with 附件说明, 抄送 and 印发机关: its 版记 has three rules."""
    document, _dispatch = issue(
        world.zzb,
        world.department,
        main=[world.education],
        attachment_note="附件：1. 疫情防控工作方案\n2. 应急处置预案",
        cc_text="自治区党委办公厅，自治区人民政府办公厅",
        printing_organ="自治区党委组织部办公室",
        signature_organ="自治区党委组织部",
        printed_on=datetime.date(2022, 10, 14),
    )
    return document
