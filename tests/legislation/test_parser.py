from hypothesis import given
from hypothesis import strategies as st

from doorstep.legislation.parser import (
    article_label,
    cn_to_int,
    int_to_cn,
    parse_draft,
    split_paragraphs,
)

from .conftest import SNIPPET


def test_numerals_as_laws_write_them():
    assert [int_to_cn(n) for n in (1, 10, 12, 20, 101, 105, 110, 1260)] == [
        "一",
        "十",
        "十二",
        "二十",
        "一百零一",
        "一百零五",
        "一百一十",
        "一千二百六十",
    ]
    assert cn_to_int("一百零五") == 105
    assert cn_to_int("两百") == 200
    assert cn_to_int("１２") == 12
    assert article_label(12) == "第十二条"


@given(st.integers(min_value=1, max_value=9999))
def test_numerals_round_trip(n):
    assert cn_to_int(int_to_cn(n)) == n


def test_snippet_splits_into_chapters_articles_and_paragraphs():
    d = parse_draft(SNIPPET)
    assert d.preamble == ["示例社区服务法（草案）"]
    assert [c.heading for c in d.chapters] == ["第一章 总则", "第二章 服务设施", "第一节 一般规定"]
    assert [c.level for c in d.chapters] == [1, 1, 2]
    assert [a.number for a in d.articles] == [1, 2, 12, 13]
    second = d.articles[1]
    # Items (项) stay in the paragraph that introduces them; the next line is 第二款... 第三款.
    assert second.paragraphs == [
        "社区服务应当便民利民。",
        "社区服务包括：\n（一）养老服务；\n（二）托育服务。",
        "街道办事处负责组织实施。",
    ]
    assert d.articles[2].chapter == 2  # 第十二条 sits in 第一节
    assert d.problems == []


def test_real_law_layout_with_parts_and_a_full_width_space():
    # The opening of the Civil Code (中华人民共和国民法典), as it is published.
    text = (
        "第一编　总则\n第一章　基本规定\n"
        "第一条　为了保护民事主体的合法权益，调整民事关系，维护社会和经济秩序，"
        "适应中国特色社会主义发展要求，弘扬社会主义核心价值观，根据宪法，制定本法。\n"
        "第二条　民法调整平等主体的自然人、法人和非法人组织之间的人身关系和财产关系。\n"
        "第二章　自然人\n第一节　民事权利能力和民事行为能力\n"
        "第十八条　成年人为完全民事行为能力人，可以独立实施民事法律行为。\n"
        "十六周岁以上的未成年人，以自己的劳动收入为主要生活来源的，视为完全民事行为能力人。\n"
    )
    d = parse_draft(text)
    assert [c.level for c in d.chapters] == [0, 1, 1, 2]
    assert [(a.number, len(a.paragraphs)) for a in d.articles] == [(1, 1), (2, 1), (18, 2)]
    assert d.articles[0].paragraphs[0].startswith("为了保护民事主体")


def test_duplicates_and_empty_articles_are_reported():
    d = parse_draft("第一条　甲。\n第一条　乙。\n第三条\n")
    assert ("duplicate_article", "第一条 乙。") in d.problems
    assert ("empty_article", "第三条") in d.problems


def test_text_that_only_looks_like_a_heading_is_text():
    d = parse_draft("第一条　本条引用第三条的规定。\n第几条都可以。")
    assert [a.number for a in d.articles] == [1]
    assert d.articles[0].paragraphs == ["本条引用第三条的规定。", "第几条都可以。"]


def test_editing_splits_lines_into_paragraphs():
    assert split_paragraphs("甲。\r\n\r\n乙：\n（一）丙；\n") == ["甲。", "乙：\n（一）丙；"]


def test_a_table_of_contents_is_not_taken_for_the_body():
    text = (
        "示例法（草案）\n目　录\n第一章　总则\n第二章　服务设施\n"
        "第一章　总则\n第一条　甲。\n第二章　服务设施\n第二条　乙。\n"
    )
    d = parse_draft(text)
    assert [c.heading for c in d.chapters] == ["第一章 总则", "第二章 服务设施"]
    assert [d.chapters[a.chapter].heading for a in d.articles] == ["第一章 总则", "第二章 服务设施"]
    assert d.preamble == ["示例法（草案）", "目 录"]
