"""Readings of Shanghai place names that pypinyin's defaults get wrong (长宁 is cháng níng).

Loaded into pypinyin as phrases before any pinyin is computed.
"""

PLACE_NAME_PHRASES: dict[str, list[list[str]]] = {
    "长宁": [["cháng"], ["níng"]],
}
