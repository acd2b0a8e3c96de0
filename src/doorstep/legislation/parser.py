"""Split a pasted draft law into parts (编), chapters (章), sections (节), articles (条)
and paragraphs (款).

Chinese laws are laid out one unit per line: "第一章　总则", "第一节　一般规定",
"第十二条　……" (the article's first paragraph follows on the same line), then one line per
further paragraph. Items (项, lines starting "（一）") belong to the paragraph before them and
stay inside it. Lines before the first heading are the title and preamble. Numbers may be
Chinese numerals (第一百零五条) or digits (第105条).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
DIGITS.update({"六": 6, "七": 7, "八": 8, "九": 9})
UNITS = {"十": 10, "百": 100, "千": 1000}
NUMERAL = "[零〇一二两三四五六七八九十百千0-9０-９]+"
HEADING_RE = re.compile(rf"^第({NUMERAL})([编章节条])[\s　]*(.*)$")
LEVELS = {"编": 0, "章": 1, "节": 2}
ITEM_RE = re.compile(r"^[（(][零〇一二三四五六七八九十]+[）)]")


def cn_to_int(text: str) -> int:
    """一百零五 -> 105, 十二 -> 12, 105 -> 105. Raises ValueError on anything else."""
    text = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not text:
        raise ValueError("empty numeral")
    if text.isdigit():
        return int(text)
    total, digit = 0, None
    for ch in text:
        if ch in DIGITS:
            if digit and DIGITS[ch]:
                raise ValueError(f"two digits in a row: {text}")
            digit = DIGITS[ch]
        elif ch in UNITS:
            total += (1 if digit is None else digit) * UNITS[ch]
            digit = None
        else:
            raise ValueError(f"not a numeral: {text}")
    return total + (digit or 0)


def int_to_cn(n: int) -> str:
    """105 -> 一百零五, 12 -> 十二, 20 -> 二十 (as laws number their articles)."""
    if n <= 0 or n >= 10000:
        return str(n)
    names = "零一二三四五六七八九"
    parts: list[str] = []
    zero = False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // unit % 10
        if d == 0:
            zero = bool(parts)
            continue
        if zero:
            parts.append("零")
            zero = False
        parts.append(names[d] + name)
    out = "".join(parts)
    return out[1:] if out.startswith("一十") else out


def article_label(n: int) -> str:
    return f"第{int_to_cn(n)}条"


@dataclass
class ParsedChapter:
    level: int
    number: int
    heading: str
    position: int = 0  # reading order, shared with articles


@dataclass
class ParsedArticle:
    number: int
    paragraphs: list[str]
    chapter: int | None  # index into ParsedDraft.chapters
    position: int = 0


@dataclass
class ParsedDraft:
    preamble: list[str] = field(default_factory=list)
    chapters: list[ParsedChapter] = field(default_factory=list)
    articles: list[ParsedArticle] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (code, line)


def _clean(line: str) -> str:
    return line.replace("\u3000", " ").strip()


def parse_draft(text: str) -> ParsedDraft:
    out = ParsedDraft()
    current: ParsedArticle | None = None
    seen: set[int] = set()
    for raw in text.splitlines():
        line = _clean(raw)
        if not line:
            continue
        m = HEADING_RE.match(line)
        if m:
            try:
                number = cn_to_int(m.group(1))
            except ValueError:
                m = None
        if m:
            kind, rest = m.group(2), m.group(3).strip()
            if kind in LEVELS:
                out.chapters.append(
                    ParsedChapter(
                        level=LEVELS[kind],
                        number=number,
                        heading=f"第{m.group(1)}{kind} {rest}".strip(),
                        position=len(out.chapters) + len(out.articles),
                    )
                )
                current = None
                continue
            if number in seen:
                out.problems.append(("duplicate_article", line[:80]))
            seen.add(number)
            current = ParsedArticle(
                number=number,
                paragraphs=[rest] if rest else [],
                chapter=len(out.chapters) - 1 if out.chapters else None,
                position=len(out.chapters) + len(out.articles),
            )
            out.articles.append(current)
            continue
        if current is None:
            if out.chapters:
                out.problems.append(("text_outside_article", line[:80]))
            else:
                out.preamble.append(line)
        elif ITEM_RE.match(line) and current.paragraphs:
            current.paragraphs[-1] += "\n" + line
        else:
            current.paragraphs.append(line)
    for a in out.articles:
        if not a.paragraphs:
            out.problems.append(("empty_article", article_label(a.number)))
    _drop_table_of_contents(out)
    return out


def _drop_table_of_contents(out: ParsedDraft) -> None:
    """Published drafts often open with 目录, listing the headings that the body repeats.

    A heading before the first article whose text appears again later is such an entry.
    """
    first = out.articles[0].position if out.articles else 0
    headings = [c.heading for c in out.chapters]
    keep = [
        i
        for i, c in enumerate(out.chapters)
        if not (
            c.position < first and headings.count(c.heading) > 1 and headings.index(c.heading) == i
        )
    ]
    if len(keep) == len(out.chapters):
        return
    new_index = {old: new for new, old in enumerate(keep)}
    out.chapters = [out.chapters[i] for i in keep]
    for a in out.articles:
        a.chapter = new_index.get(a.chapter) if a.chapter is not None else None


def split_paragraphs(text: str) -> list[str]:
    """An article's text as staff edit it: one paragraph per line, items joined to theirs."""
    paragraphs: list[str] = []
    for raw in text.splitlines():
        line = _clean(raw)
        if not line:
            continue
        if ITEM_RE.match(line) and paragraphs:
            paragraphs[-1] += "\n" + line
        else:
            paragraphs.append(line)
    return paragraphs
