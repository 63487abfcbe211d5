import pytest
from hypothesis import given
from hypothesis import strategies as st

from documents.numbering import DocumentNumber, format_number, parse_number
from units.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("内教工委函〔2022〕90号", ("内教工委函", 2022, 90)),
        ("内组电明字[2022]11号", ("内组电明字", 2022, 11)),
        ("内组电明字［2022］11号", ("内组电明字", 2022, 11)),
        ("国办发（2021）11号", ("国办发", 2021, 11)),
        ("国办发(2021)11", ("国办发", 2021, 11)),
        (" 内大党发 〔2022〕 3 号 ", ("内大党发", 2022, 3)),
    ],
)
def test_numbers_are_read_in_every_bracket_form(text, expected):
    assert parse_number(text) == DocumentNumber(*expected)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "格式不正确"),
        ("内教工委函2022年90号", "格式不正确"),
        ("内教工委函〔22〕90号", "格式不正确"),  # the year is written in full
        ("〔2022〕90号", "格式不正确"),  # no prefix
        ("内教工委函〔2022〕0号", "序号必须从 1 开始"),
        ("内教工委函〔1900〕9号", "年份 1900 不合理"),
    ],
)
def test_a_malformed_number_is_refused_naming_the_problem(text, problem):
    with pytest.raises(InvalidInput, match=problem):
        parse_number(text)


def test_a_number_prints_with_the_full_year_in_hexagonal_brackets_and_no_leading_zero():
    assert format_number("内教工委函", 2022, 90) == "内教工委函〔2022〕90号"
    assert str(parse_number("内教工委函〔2022〕090号")) == "内教工委函〔2022〕90号"


@given(
    prefix=st.text(alphabet="内教工委函组电明字发党大", min_size=1, max_size=8),
    year=st.integers(1949, 2999),
    serial=st.integers(1, 10**6),
)
def test_printing_then_reading_gives_the_number_back(prefix, year, serial):
    assert parse_number(format_number(prefix, year, serial)) == (prefix, year, serial)
