"""Readings of Shanghai place names that pypinyin's defaults get wrong (长宁 is cháng níng).

Loaded into pypinyin as phrases before any pinyin is computed. Keys are the place-name part
only (闵行, not 闵行区), so the fix also applies inside longer names such as
闵行区七宝镇社区党群服务中心.

How the list was made: every district and subdistrict name of Shanghai (china-division 2.7.0)
was read by pypinyin 0.55 on its own, after its district name, after 上海市 and before common
center suffixes; each reading that differed from the standard one is corrected here. Names whose
polyphonic characters pypinyin already reads right need no entry: 莘庄 xīn, 大场/新场/五角场
chǎng, 曲阳 qū, 斜土 xié, 车墩 chē, 叶榭 yè, 佘山 shé, 柘林 zhè, 堡镇 bǎo, 漕河泾 cáo hé jīng,
长寿/长征/长兴 cháng, 黄陂 huáng pí, 陆家嘴, 虹口, 南翔, 菊园, 梅陇.
"""

PLACE_NAME_PHRASES: dict[str, list[list[str]]] = {
    # pypinyin knows 市长 (shì zhǎng, "mayor"), so 上海市长宁区 became shì zhǎng níng; as a
    # phrase of its own, 上海市 is matched first and leaves 长宁 intact.
    "上海市": [["shàng"], ["hǎi"], ["shì"]],
    # 长 is cháng ("long") in place names, not zhǎng.
    "长宁": [["cháng"], ["níng"]],
    "长桥": [["cháng"], ["qiáo"]],
    "长风": [["cháng"], ["fēng"]],
    "长白": [["cháng"], ["bái"]],
    "长海": [["cháng"], ["hǎi"]],
    # 行 is háng in these place names, not xíng.
    "闵行": [["mǐn"], ["háng"]],
    "殷行": [["yīn"], ["háng"]],
    "杨行": [["yáng"], ["háng"]],
    "庙行": [["miào"], ["háng"]],
    "徐行": [["xú"], ["háng"]],
    "高行": [["gāo"], ["háng"]],
    "庄行": [["zhuāng"], ["háng"]],
    # 重固 is chóng gù, not zhòng.
    "重固": [["chóng"], ["gù"]],
    # 朝阳 (朝阳农场) is cháo yáng as a place name, not zhāo.
    "朝阳": [["cháo"], ["yáng"]],
}
