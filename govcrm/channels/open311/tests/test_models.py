"""ServiceQuestion's checks, as the admin runs them."""

import pytest
from django.core.exceptions import ValidationError

from govcrm.cases.models import Category
from govcrm.channels.open311.models import ServiceQuestion

from .conftest import LIGHT

pytestmark = pytest.mark.django_db


def question(**over) -> ServiceQuestion:
    fields = {"category": Category.objects.get(code=LIGHT), "code": "pole", "datatype": "string",
              "description": "灯杆编号？"}
    fields.update(over)
    return ServiceQuestion(**fields)


def test_a_plain_question_is_valid(city):
    question().full_clean()


@pytest.mark.parametrize(("over", "field"), [
    ({"code": "pole number"}, "code"),
    ({"category_code": "urban.lighting"}, "category"),  # not a leaf: not a service
    ({"datatype": "singlevaluelist"}, "values"),  # a list without choices
    ({"datatype": "singlevaluelist", "values": [{"key": "a"}, {"key": "a"}]}, "values"),
    ({"datatype": "multivaluelist", "values": [{"name": "no key"}]}, "values"),
    ({"values": [{"key": "a"}]}, "values"),  # choices on a text question
])
def test_invalid_questions_are_refused(city, over, field):
    code = over.pop("category_code", None)
    if code:
        over["category"] = Category.objects.get(code=code)
    with pytest.raises(ValidationError) as refused:
        question(**over).full_clean()
    assert field in refused.value.message_dict


def test_choice_names_follow_the_language(city):
    from django.utils import translation

    q = question(datatype="singlevaluelist", values=[{"key": "a", "name_zh": "甲", "name_en": "A"}, {"key": "b"}])
    with translation.override("en"):
        assert q.choices() == [("a", "A"), ("b", "b")]
    with translation.override("zh-hans"):
        assert q.choices() == [("a", "甲"), ("b", "b")]
