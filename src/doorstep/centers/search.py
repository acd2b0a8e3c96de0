"""Text normalisation and pinyin keys shared by indexing and querying.

Everything that is searched is stored normalised (simplified characters, NFKC, lower case) in
`|`-delimited fields, so the database only ever needs a substring test (`LIKE '%q%'`, which
pg_trgm indexes on PostgreSQL). See docs/search.md.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import jieba
import zhconv
from pypinyin import Style, lazy_pinyin, load_phrases_dict

from .place_names import PLACE_NAME_PHRASES

jieba.setLogLevel(logging.WARNING)
_init_lock = threading.Lock()
_phrases_loaded = False
_jieba_ready = False

_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN_QUERY = re.compile(r"^[a-z0-9' ]+$")
_SEPARATORS = re.compile(r"[\s\u3000·•,，。.、;；:：!！?？()（）\[\]【】\"“”'‘’《》<>|/\\-]+")
MAX_QUERY_LENGTH = 100


def _ensure_phrases() -> None:
    global _phrases_loaded
    if _phrases_loaded:
        return
    with _init_lock:
        if not _phrases_loaded:
            load_phrases_dict(PLACE_NAME_PHRASES)
            _phrases_loaded = True


def _ensure_jieba() -> None:
    # Loading jieba's dictionary takes about a second: only queries need it, not indexing.
    global _jieba_ready
    if _jieba_ready:
        return
    with _init_lock:
        if not _jieba_ready:
            jieba.initialize()
            _jieba_ready = True


def warm_up() -> None:
    """Load the dictionaries now, so a served process's first search is not slow."""
    _ensure_phrases()
    _ensure_jieba()
    parse_query("古北 gubei")


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Simplified characters, half-width forms, lower case, single spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    text = zhconv.convert(text, "zh-cn")
    return " ".join(text.lower().split())


def compact(text: str) -> str:
    """normalize() without separators, so 'gu bei' and '古北 市民' compare as written together."""
    return _SEPARATORS.sub("", normalize(text))


@lru_cache(maxsize=16384)
def pinyin_full(text: str) -> str:
    _ensure_phrases()
    return "".join(lazy_pinyin(compact(text), style=Style.NORMAL, v_to_u=False)).lower()


@lru_cache(maxsize=16384)
def pinyin_initials(text: str) -> str:
    """First letters of each character's pinyin; digits and Latin runs are kept whole
    (第12居民区 -> d12jmq)."""
    _ensure_phrases()
    return "".join(lazy_pinyin(compact(text), style=Style.FIRST_LETTER)).lower()


def joined(values: list[str]) -> str:
    """`|a|b|c|`: field boundaries stay visible so a prefix test is `|q`."""
    cleaned = [v for v in values if v]
    return "|" + "|".join(cleaned) + "|" if cleaned else ""


@dataclass(frozen=True)
class IndexFields:
    search_name: str
    search_text: str
    name_pinyin: str
    name_initials: str
    place_pinyin: str


def index_fields(
    *,
    name: str,
    aliases: list[str],
    address: str,
    district: str,
    subdistrict: str,
    name_en: str = "",
) -> IndexFields:
    # The English name is one more name: "gubei civic center" compacts to a substring of it.
    names = [name, *aliases, *([name_en] if name_en else [])]
    places = [district, subdistrict, address]
    return IndexFields(
        search_name=joined([compact(n) for n in names]),
        search_text=joined([compact(p) for p in places]),
        name_pinyin=joined([pinyin_full(n) for n in names]),
        name_initials=joined([pinyin_initials(n) for n in names]),
        place_pinyin=joined([pinyin_full(p) for p in places if p]),
    )


@dataclass(frozen=True)
class ParsedQuery:
    raw: str
    text: str  # compact, normalised
    latin: str  # lower-case Latin letters only, when the query is pinyin or Latin
    tokens: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        return not self.text


def parse_query(raw: str) -> ParsedQuery:
    raw = (raw or "").strip()[:MAX_QUERY_LENGTH]
    norm = normalize(raw)
    text = compact(raw)
    latin = ""
    if norm and _LATIN_QUERY.match(norm):
        latin = re.sub(r"[^a-z0-9]", "", norm)
    tokens: list[str] = []
    if _HAN.search(text):
        _ensure_jieba()
        # Words of the query, so 虹桥街道党群服务中心 finds 长宁区虹桥街道社区党群服务中心.
        seen = set()
        words: list[str] = []
        run = ""  # consecutive one-character Han words: jieba splits unknown names (新泾)
        for word in [*jieba.cut(re.sub(_SEPARATORS, " ", norm)), " "]:
            w = compact(word)
            if len(w) == 1 and _HAN.search(w):
                run += w
                continue
            if len(run) > 1:  # a lone character is too broad to require
                words.append(run)
            run = ""
            if w:
                words.append(w)
        for w in words:
            if w not in seen:
                seen.add(w)
                tokens.append(w)
    return ParsedQuery(raw=raw, text=text, latin=latin, tokens=tuple(tokens))


def pinyin_name(text: str) -> str:
    """A readable pinyin form of a Chinese name, word by word: 长宁区虹桥街道 -> Changning Qu
    Hongqiao Jiedao. For English pages where no English name is known (marked as pinyin)."""
    _ensure_phrases()
    _ensure_jieba()
    words: list[str] = []
    for word in jieba.cut(normalize(text)):
        w = word.strip()
        if not w or _SEPARATORS.fullmatch(w):
            continue
        syllables = "".join(lazy_pinyin(w, style=Style.NORMAL))
        words.append(syllables[:1].upper() + syllables[1:])
    return " ".join(words)


def rank_tiers(pq: ParsedQuery) -> tuple[list[tuple[str, str, int]], list[tuple[str, str]]]:
    """The text search's ranking, defined once for the SQL (`sql.text_match`) and the
    in-memory index (`textindex`): (column, substring, score) tiers in order, the first a
    center passes being its rank, and the (column, substring) tests a match needs.

    exact name (100) > name starts (90) > full pinyin name (95, 85) > initials (84, 74) >
    name contains (80, 75) > place exact (70) > place contains (60) > place pinyin (50) >
    initials anywhere (45); with more than one word, every word somewhere (40) comes last
    (its test spans two columns, so each caller adds it); anything else 10.
    """
    t = pq.text
    tiers: list[tuple[str, str, int]] = [
        ("search_name", f"|{t}|", 100),
        ("search_name", f"|{t}", 90),
        ("search_name", t, 80),
        ("search_text", f"|{t}|", 70),
        ("search_text", t, 60),
    ]
    match: list[tuple[str, str]] = [("search_name", t), ("search_text", t)]
    if pq.latin and len(pq.latin) >= 2:
        lt = pq.latin
        tiers[3:3] = [
            ("name_pinyin", f"|{lt}|", 95),
            ("name_pinyin", f"|{lt}", 85),
            ("name_initials", f"|{lt}|", 84),
            ("name_pinyin", lt, 75),
            ("name_initials", f"|{lt}", 74),
        ]
        tiers.append(("place_pinyin", lt, 50))
        match += [("name_pinyin", lt), ("name_initials", f"|{lt}"), ("place_pinyin", lt)]
        if len(lt) >= 3:
            tiers.append(("name_initials", lt, 45))
            match.append(("name_initials", lt))
    return tiers, match
