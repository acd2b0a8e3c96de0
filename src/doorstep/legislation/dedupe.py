"""Near-duplicate opinions: normalised text and character-bigram Jaccard similarity.

Chinese has no spaces, so words are not at hand; overlapping pairs of characters are a
robust stand-in (two residents writing 建议增加社区养老服务 and 建议增加社区的养老服务 share most
bigrams). Staff see the suggestions and decide; nothing is merged by itself.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

SIMILAR = 0.6
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, no spaces or punctuation."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def text_key(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()


def bigrams(text: str) -> frozenset[str]:
    n = normalise(text)
    if len(n) < 2:
        return frozenset({n}) if n else frozenset()
    return frozenset(n[i : i + 2] for i in range(len(n) - 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Suggestion:
    ids: tuple[int, ...]
    score: float


def suggest(items: Sequence[tuple[int, str]], threshold: float = SIMILAR) -> list[Suggestion]:
    """Clusters of ids whose texts are alike (single link at `threshold`), best first.

    Quadratic in the opinions of one article, which is a few hundred at the most.
    """
    grams = [(i, bigrams(t)) for i, t in items]
    parent = {i: i for i, _ in grams}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    best: dict[tuple[int, int], float] = {}
    for k, (i, gi) in enumerate(grams):
        for j, gj in grams[k + 1 :]:
            s = jaccard(gi, gj)
            if s >= threshold:
                best[(i, j)] = s
                parent[find(i)] = find(j)
    clusters: dict[int, list[int]] = {}
    for i, _ in grams:
        clusters.setdefault(find(i), []).append(i)
    out = []
    for members in clusters.values():
        if len(members) < 2:
            continue
        ms = set(members)
        score = max(s for (a, b), s in best.items() if a in ms and b in ms)
        out.append(Suggestion(ids=tuple(sorted(members)), score=round(score, 2)))
    return sorted(out, key=lambda s: (-s.score, s.ids))
