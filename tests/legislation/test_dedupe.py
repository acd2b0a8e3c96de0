from doorstep.legislation.dedupe import bigrams, jaccard, normalise, suggest, text_key


def test_normalise_ignores_width_case_spaces_and_punctuation():
    assert normalise("建议 增加，ＡＢ！") == "建议增加ab"
    assert text_key("建议增加。") == text_key("建议 增加")


def test_similar_wordings_are_suggested_and_different_ones_are_not():
    items = [
        (1, "建议增加社区养老服务设施。"),
        (2, "建议增加社区的养老服务设施"),
        (3, "希望加强停车管理，晚上车位太少。"),
        (4, "建议增加社区养老服务设施！"),
    ]
    found = suggest(items)
    assert [s.ids for s in found] == [(1, 2, 4)]
    assert found[0].score == 1.0
    assert jaccard(bigrams(items[0][1]), bigrams(items[2][1])) < 0.2


def test_nothing_to_suggest_for_single_opinions():
    assert suggest([(1, "甲")]) == []
    assert suggest([]) == []
