"""Submitting a request on the portal: anonymous or with contact details, once per form, nothing stored when refused."""

import io
import re

import pytest
from django.test import Client
from PIL import Image

from govcrm.cases.models import Case, CaseEvent
from govcrm.channels.models import Attachment, Interaction
from govcrm.citizens.models import Citizen, Identity

from .conftest import fixture_upload, jpeg, request_data, upload

pytestmark = pytest.mark.django_db


def stored() -> tuple[int, int, int, int]:
    return (Case.objects.count(), Interaction.objects.count(), Attachment.objects.count(),
            Citizen.objects.count())


def shown_keys(response) -> tuple[str, str]:
    html = response.content.decode()
    number = re.search(r'id="case-number">(\d+)<', html).group(1)
    code = re.search(r'id="query-code">(\d+)<', html).group(1)
    return number, code


def test_the_form_offers_leaf_categories_grouped_and_a_fresh_token(city, client):
    first = client.get("/")
    second = client.get("/")
    assert first.status_code == 200
    html = first.content.decode()
    assert '<optgroup label="城乡建设">' in html
    assert 'value="urban.lighting.out"' in html
    assert 'value="urban.lighting"' not in html  # only leaves are offered
    assert 'enctype="multipart/form-data"' in html
    token = re.search(r'name="token" value="([0-9a-f-]{36})"', html).group(1)
    assert token not in second.content.decode()


def test_a_first_visit_gets_the_cached_form_with_its_own_tokens_and_it_can_be_sent(city):
    """The form page of a visitor without a session is rendered once per language (views/submit.py):
    the same page as a full render but for the CSRF and submission tokens, which are per visitor."""
    from govcrm.channels.portal.views import submit as view

    def tokens(html: str) -> tuple[str, str]:
        return (re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1),
                re.search(r'name="token" value="([0-9a-f-]{36})"', html).group(1))

    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    page1, page2 = first.get("/").content.decode(), second.get("/").content.decode()
    assert view._CSRF_MARK not in page1 and view._TOKEN_MARK not in page1
    (csrf1, token1), (csrf2, token2) = tokens(page1), tokens(page2)
    assert token1 != token2 and csrf1 != csrf2
    assert page1.count(csrf1) == 2  # the language switch and the request form
    # The same page as the full render, but for the tokens: a visitor with a session gets that one.
    full = first.get("/").content.decode()  # `first` now has the CSRF cookie, not a first visit
    csrf_full, token_full = tokens(full)
    assert page1.replace(csrf1, "C").replace(token1, "T") == full.replace(csrf_full, "C").replace(token_full, "T")
    en = Client(HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()
    assert "Tell us about a problem or ask a question" in en and "反映问题或咨询" in page1

    response = second.post("/", {**request_data(), "csrfmiddlewaretoken": csrf2, "token": token2})
    assert response.status_code == 302
    assert Case.objects.count() == 1


def test_anonymous_request_opens_a_portal_case(city, client, submit):
    data = request_data()
    response = client.post("/", data, follow=True)
    case = Case.objects.get()
    assert response.redirect_chain[-1][0] == f"/submitted/{case.number}/"
    assert shown_keys(response) == (case.number, case.query_code)
    assert case.channel == "portal" and case.citizen is None and case.category.code == "urban.lighting.out"
    assert case.case_type == "complaint" and case.address == "和平街12号"
    interaction = Interaction.objects.get()
    assert interaction.case == case and interaction.channel == "portal"
    assert interaction.external_id == data["token"] and interaction.citizen is None
    register = CaseEvent.objects.get(case=case, action="register")
    assert register.actor_name == "channel:portal" and register.data["external_id"] == data["token"]


def test_request_with_contact_details_finds_or_creates_the_citizen(city, submit):
    response = submit(follow=True, name="张三", phone="138 0013 8000", email="zhang@example.org",
                      lat="39.9075", lon="116.3972")
    case = Case.objects.select_related("citizen").get()
    assert shown_keys(response) == (case.number, case.query_code)
    assert case.citizen.name == "张三" and (case.lat, case.lon) == (39.9075, 116.3972)
    assert set(Identity.objects.filter(citizen=case.citizen).values_list("kind", flat=True)) == {"phone", "email"}
    assert Interaction.objects.get().citizen == case.citizen
    submit(phone="13800138000", description="还有一盏路灯也不亮。")
    assert Citizen.objects.count() == 1 and Case.objects.count() == 2  # the same person, found by phone


def test_case_language_follows_the_page(city, client, submit):
    client.cookies["django_language"] = "en"
    response = submit(follow=True)
    assert "Your request was received" in response.content.decode()
    assert Case.objects.get().language == "en"


def test_a_double_post_with_the_same_token_gives_one_case(city, client):
    data = request_data()
    first = client.post("/", data)
    again = client.post("/", data)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Case.objects.count() == 1 and Interaction.objects.count() == 1


def test_a_retry_from_another_browser_with_the_token_gets_the_same_case(city):
    data = request_data()
    first = Client().post("/", data, follow=True)
    again = Client().post("/", data, follow=True)
    assert shown_keys(first) == shown_keys(again)
    assert Case.objects.count() == 1


def too_many_photos():
    return [upload(f"p{i}.jpg", jpeg()) for i in range(6)]


@pytest.mark.parametrize(("fields", "message"), [
    ({"description": "   "}, "Describe your request."),
    ({"category": "no.such.category"}, "Choose a category from the list."),
    ({"category": "urban.lighting"}, "Choose a category from the list."),  # not a leaf
    ({"category": ""}, "Choose a category."),
    ({"photos": lambda: [fixture_upload("not_a_photo.jpg")]}, "is not a picture"),
    ({"photos": lambda: [upload("cut.jpg", jpeg()[:60])]}, "is not a picture"),
    ({"photos": too_many_photos}, "Attach at most 5 photos."),
    ({"phone": "12345"}, "Not a valid phone number"),
    ({"email": "nobody"}, "Not a valid e-mail address."),
    ({"lat": "39.9"}, "Give both latitude and longitude"),
    ({"lat": "95", "lon": "116"}, "less than or equal to 90"),
    ({"token": "not-a-uuid"}, "reload the page"),
])
def test_bad_input_is_refused_and_stores_nothing(city, client, fields, message):
    fields = {k: v() if callable(v) else v for k, v in fields.items()}
    client.cookies["django_language"] = "en"
    before = stored()
    response = client.post("/", request_data(**fields))
    assert response.status_code == 422
    html = response.content.decode()
    assert "Your request was not sent" in html and message in html
    assert stored() == before


def test_an_oversized_photo_is_refused_before_it_is_read(city, client, settings):
    settings.GOVCRM_MAX_UPLOAD_BYTES = 1000
    client.cookies["django_language"] = "en"
    response = client.post("/", request_data(photos=[upload("big.jpg", jpeg((400, 300), "blue") + b"\0" * 2000)]))
    assert response.status_code == 422
    assert "“big.jpg” is larger than" in response.content.decode()
    assert stored() == (0, 0, 0, 0)


def test_errors_are_in_the_page_language(city, client):
    client.cookies["django_language"] = "zh-hans"
    response = client.post("/", request_data(description="", photos=[fixture_upload("not_a_photo.jpg")]))
    html = response.content.decode()
    assert response.status_code == 422
    assert "请描述您的诉求。" in html and "不是图片" in html
    assert "Describe your request." not in html
    assert 'lang="zh-hans"' in html


def test_photos_are_stored_without_their_exif(city, submit):
    photo = fixture_upload("photo_with_gps.jpg")
    raw = photo.read()
    photo.seek(0)
    assert b"SecretPhoneMaker" in raw and Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)
    response = submit(photos=[photo, upload("second.png", _png(), "image/png")])
    assert response.status_code == 302
    photos = {a.name: a for a in Attachment.objects.all()}
    assert set(photos) == {"photo_with_gps.jpg", "second.png"}
    with photos["photo_with_gps.jpg"].file.open("rb") as f:
        kept = f.read()
    assert b"SecretPhoneMaker" not in kept and b"Model X-1000" not in kept
    assert not Image.open(io.BytesIO(kept)).getexif()
    assert [photos[n].content_type for n in ("photo_with_gps.jpg", "second.png")] == ["image/jpeg", "image/png"]
    assert {a.interaction.case_id for a in photos.values()} == {Case.objects.get().pk}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "green").save(out, "PNG")
    return out.getvalue()


def test_five_photos_are_accepted(city, submit):
    assert submit(photos=[upload(f"p{i}.jpg", jpeg()) for i in range(5)]).status_code == 302
    assert Attachment.objects.count() == 5


def test_category_search_narrows_the_select(city, client):
    response = client.get("/categories/", {"category_q": "路灯"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'value="urban.lighting.out"' in html and 'value="environment.noise.commercial"' not in html
    assert 'hx-swap-oob="innerHTML"' in html


def test_category_search_with_one_match_selects_it(city, client):
    client.cookies["django_language"] = "en"
    response = client.get("/categories/", {"category_q": "commercial noise"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert '<option value="environment.noise.commercial" selected>' in html
    assert "1 category matches" in html


def test_category_search_without_htmx_renders_the_whole_form(city, client):
    response = client.get("/categories/", {"category_q": "噪声"})
    html = response.content.decode()
    assert "<html" in html and 'name="description"' in html
    assert 'value="environment.noise.commercial"' in html and 'value="urban.lighting.out"' not in html


def test_the_confirmation_is_shown_only_to_the_browser_that_sent_it(city, client, submit):
    submit()
    number = Case.objects.get().number
    assert client.get(f"/submitted/{number}/").status_code == 200
    assert Client().get(f"/submitted/{number}/").status_code == 404
