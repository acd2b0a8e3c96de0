"""The same resident sends the same opinion from several tabs at once (a double tap, a retry).

First the race is shown to be real: a check-then-insert, with every request checking before
any inserts (a barrier makes that certain), lets every request through the check, and only the
unique constraint stops the copies. Then the service under the same pressure stores exactly one
opinion and answers every other request with the stable code "repeated", never a 500.
"""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from doorstep.legislation import dedupe, services
from doorstep.legislation.models import Opinion, StatusChange
from tests.factories import make_account, make_center, make_staff
from tests.races import run_at_once

from .conftest import SNIPPET

pytestmark = pytest.mark.django_db(transaction=True)

TABS = 8
TEXT = "建议增加社区养老服务设施。"


def run_all(target, n):
    return run_at_once(target, [()] * n)


@pytest.fixture
def setting(regions):
    center = make_center("长宁区虹桥街道社区党群服务中心")
    point = services.designate_contact_point(by=None, center_id=center.pk)
    staff = make_staff(center=center)
    now = timezone.now()
    draft = services.import_draft(
        by=staff,
        contact_point_id=point.pk,
        title="示例社区服务法（草案）",
        text=SNIPPET,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=1),
    )
    services.change_draft_status(by=staff, draft_id=draft.pk, to="open")
    return draft, draft.articles.get(number=1), make_account(name="王芳")


def test_check_then_insert_races_and_only_the_constraint_stops_it(setting):
    draft, article, author = setting
    key = dedupe.text_key(TEXT)

    def naive(barrier):
        seen = Opinion.objects.filter(author=author, article=article, text_key=key).exists()
        barrier.wait()
        if not seen:
            return Opinion.objects.create(
                draft=draft, article=article, author=author, text=TEXT, text_key=key
            )
        return None

    outcomes = run_all(naive, TABS)
    assert sum(isinstance(o, IntegrityError) for o in outcomes) == TABS - 1
    assert Opinion.objects.count() == 1


def test_the_service_stores_one_opinion_and_answers_the_rest_with_a_code(setting):
    draft, article, author = setting

    def give(barrier):
        barrier.wait()
        return services.give_opinion(
            author=author, draft_id=draft.pk, article_id=article.pk, text=TEXT
        )

    outcomes = run_all(give, TABS)
    stored = [o for o in outcomes if isinstance(o, Opinion)]
    refused = [o for o in outcomes if isinstance(o, services.LegislationError)]
    assert len(stored) == 1 and len(refused) == TABS - 1, outcomes
    assert {e.code for e in refused} == {"repeated"}
    assert Opinion.objects.count() == 1
    assert StatusChange.objects.count() == 1
