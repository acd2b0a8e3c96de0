"""The rules on scripted sequences: known alerts at known seconds."""

from doorstep.gym import rules

LIMITS = rules.Limits(
    limit_bpm=150,
    upper_bpm=127,
    high_seconds=10,
    low_bpm=45,
    sudden_bpm=35,
    sudden_seconds=5,
    no_signal_seconds=15,
    battery_low=15,
)


def play(sequence, track=None):
    """(second, bpm) pairs → {second: [kinds raised]}."""
    track = track or rules.Track(LIMITS)
    out = {}
    for second, bpm in sequence:
        raised = rules.on_reading(track, float(second), bpm)
        if raised:
            out[second] = [k for k, _v in raised]
    return out, track


def test_high_for_more_than_n_seconds_raises_once_at_the_eleventh_second():
    seq = [(s, 100) for s in range(0, 10)] + [(s, 130) for s in range(10, 40)]
    raised, _t = play(seq)
    assert raised == {21: ["high"]}  # above from 10: 21 − 10 > 10 s; never again while open


def test_a_dip_resets_the_stretch_and_after_acknowledgement_it_can_raise_again():
    seq = [(s, 130) for s in range(0, 8)] + [(8, 110)] + [(s, 130) for s in range(9, 25)]
    raised, track = play(seq)
    assert raised == {20: ["high"]}
    track.open.discard("high")  # staff acknowledged it
    more, _t = play([(s, 130) for s in range(25, 30)], track)
    assert more == {25: ["high"]}  # still above since 9: raised on the next reading


def test_at_the_maximum_at_once_and_low_and_sudden():
    raised, _t = play([(0, 100), (1, 100), (2, 151)])
    assert raised == {2: ["sudden", "high"]}
    raised, _t = play([(0, 60), (1, 44)])
    assert raised == {1: ["low"]}
    raised, _t = play([(0, 80), (1, 80), (7, 118)])  # +38 but over 6 s: not sudden
    assert raised == {}


def test_no_signal_on_the_clock_and_recovery():
    track = rules.Track(LIMITS)
    rules.on_reading(track, 100.0, 90)
    assert rules.on_clock(track, 115.0, started=0.0) == []
    assert rules.on_clock(track, 115.5, started=0.0) == [("no_signal", None)]
    assert rules.on_clock(track, 130.0, started=0.0) == []  # open: not again
    rules.on_reading(track, 131.0, 92)  # the band is back; the alert stays until acknowledged
    assert "no_signal" in track.open
    silent = rules.Track(LIMITS)  # a band that never spoke: counted from the session's start
    assert rules.on_clock(silent, 16.0, started=0.0) == [("no_signal", None)]


def test_battery_and_button():
    track = rules.Track(LIMITS)
    assert rules.on_reading(track, 0.0, 90, battery=14) == [("battery", 14)]
    assert rules.on_reading(track, 1.0, 90, button=True) == [("button", 90)]


def test_limits_from_age_or_a_doctor():
    assert rules.limits_for(75, max_bpm=None, upper_share=0.85) == rules.Limits(145, 123)
    assert rules.limits_for(75, max_bpm=120, upper_share=0.8).upper_bpm == 96
