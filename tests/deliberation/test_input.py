"""Bad input is refused with a clear message and nothing is stored half-way; photos are checked
and re-encoded without EXIF/GPS."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from doorstep.deliberation import services
from doorstep.deliberation.models import Comment, Photo, Topic, TopicEvent
from doorstep.deliberation.services import DeliberationError
from tests.deliberation.conftest import image_bytes

pytestmark = pytest.mark.django_db


def propose(user, center, **kw):
    data = {
        "title": "增设助餐点",
        "description": "希望中心提供老年餐。",
        "category": "elderly_care",
        "center_id": center.pk,
    }
    data.update(kw)
    return services.propose(user=user, **data)


def upload(data: bytes, name="p.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def nothing_stored(media_root):
    assert Topic.objects.count() == 0
    assert TopicEvent.objects.count() == 0
    assert Photo.objects.count() == 0
    assert not any(p.is_file() for p in media_root.rglob("*")) if media_root.exists() else True


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("title", "", "invalid"),
        ("title", "   \n ", "invalid"),
        ("description", "", "invalid"),
        ("title", "长" * 100_000, "too_long"),
        ("title", "x" * 81, "too_long"),
        ("description", "y" * 4001, "too_long"),
        ("title", "<script>alert(1)</script>", "markup_not_allowed"),
        ("description", 'hi <img src=x onerror="alert(1)">', "markup_not_allowed"),
        ("title", "abc\x00def", "invalid"),
        ("category", "bogus", "invalid"),
    ],
)
def test_bad_text_is_refused_and_nothing_stored(resident, center, settings, field, value, code):
    with pytest.raises(DeliberationError) as exc:
        propose(resident, center, **{field: value})
    assert exc.value.code == code
    assert exc.value.extra["field"] == field
    assert str(exc.value.message)
    nothing_stored(settings.MEDIA_ROOT)


def test_a_title_of_exactly_80_and_text_with_angle_brackets_is_fine(resident, center):
    topic = propose(resident, center, title="长" * 80, description="5 < 6 且 7 > 3 & 好")
    assert len(topic.title) == 80 and topic.description == "5 < 6 且 7 > 3 & 好"


def test_place_is_required_and_must_exist(resident, center, settings):
    for kw in ({"center_id": None}, {"center_id": 10**9}, {"center_id": None, "region_code": "x"}):
        with pytest.raises(DeliberationError):
            propose(resident, center, **kw)
    nothing_stored(settings.MEDIA_ROOT)


def test_fake_and_oversize_images_refused_nothing_stored(resident, center, settings):
    good = upload(image_bytes())
    fake = upload(b"<?php echo 1; ?>" * 10, name="x.jpg")
    with pytest.raises(DeliberationError) as exc:
        propose(resident, center, photos=[good, fake])
    assert exc.value.code == "photo_invalid"
    nothing_stored(settings.MEDIA_ROOT)

    big = upload(b"\xff\xd8" + b"0" * (5 * 1024 * 1024 + 1))
    with pytest.raises(DeliberationError) as exc:
        propose(resident, center, photos=[big])
    assert exc.value.code == "photo_too_large"

    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    with pytest.raises(DeliberationError) as exc:
        propose(resident, center, photos=[upload(gif.getvalue(), name="a.gif")])
    assert exc.value.code == "photo_invalid"

    truncated = image_bytes("PNG")[:60]
    with pytest.raises(DeliberationError) as exc:
        propose(resident, center, photos=[upload(truncated, name="a.png")])
    assert exc.value.code == "photo_invalid"

    many = [upload(image_bytes()) for _ in range(7)]
    with pytest.raises(DeliberationError) as exc:
        propose(resident, center, photos=many)
    assert exc.value.code == "too_many_photos"
    nothing_stored(settings.MEDIA_ROOT)


def test_photos_are_reencoded_without_exif_or_gps(resident, center):
    original = image_bytes(exif_gps=True)
    with Image.open(io.BytesIO(original)) as im:
        assert im.getexif().get(0x8825), "the test image must carry GPS data"
    topic = propose(
        resident,
        center,
        photos=[
            upload(original),
            upload(image_bytes("PNG"), name="b.png"),
            upload(image_bytes("WEBP"), name="c.webp"),
        ],
    )
    photos = list(topic.photos.all())
    assert [p.content_type for p in photos] == ["image/jpeg", "image/png", "image/webp"]
    with photos[0].file.open("rb") as fh:
        stored = fh.read()
    assert stored != original
    with Image.open(io.BytesIO(stored)) as im:
        assert im.format == "JPEG" and im.size == (64, 48)
        assert not im.getexif()
    assert b"CameraMaker" not in stored


def test_comment_text_checked_and_closed_topics_refuse(topic, resident, neighbours, staff):
    for bad in ("", "c" * 1001, "<script>x</script>"):
        with pytest.raises(DeliberationError):
            services.comment(topic_id=topic.pk, user=neighbours[0], text=bad)
    assert Comment.objects.count() == 0
    services.transition(topic_id=topic.pk, to="declined", by=staff, reason="不属于中心职责")
    with pytest.raises(DeliberationError) as exc:
        services.comment(topic_id=topic.pk, user=neighbours[0], text="还是希望考虑")
    assert exc.value.code == "topic_closed"
    with pytest.raises(DeliberationError) as exc:
        services.support(topic_id=topic.pk, user=neighbours[0])
    assert exc.value.code == "topic_closed"


def test_one_support_per_person_and_not_by_the_proposer(topic, resident, neighbours):
    assert services.support(topic_id=topic.pk, user=neighbours[0]) is True
    assert services.support(topic_id=topic.pk, user=neighbours[0]) is False
    assert topic.supports.count() == 1
    with pytest.raises(DeliberationError) as exc:
        services.support(topic_id=topic.pk, user=resident)
    assert exc.value.code == "own_topic"
    assert services.withdraw_support(topic_id=topic.pk, user=neighbours[0]) is True
    assert topic.supports.count() == 0


def test_flood_guards(resident, center, topic, neighbours):
    from doorstep.deliberation.services import COMMENTS_PER_HOUR, TOPICS_PER_DAY

    for i in range(TOPICS_PER_DAY - 1):  # the `topic` fixture was the first today
        propose(resident, center, title=f"议题{i}")
    with pytest.raises(DeliberationError) as exc:
        propose(resident, center, title="再来一个")
    assert exc.value.code == "rate_limited" and exc.value.status == 429
    assert Topic.objects.filter(proposer=resident).count() == TOPICS_PER_DAY
    for i in range(COMMENTS_PER_HOUR):
        services.comment(topic_id=topic.pk, user=neighbours[0], text=f"第{i}条")
    with pytest.raises(DeliberationError) as exc:
        services.comment(topic_id=topic.pk, user=neighbours[0], text="还有")
    assert exc.value.code == "rate_limited"
    services.comment(topic_id=topic.pk, user=neighbours[1], text="别人不受影响")
