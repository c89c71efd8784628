"""Open311 uploads: at most MAX_FILES photos per request; bodies over the limit refused before reading."""

from __future__ import annotations

import io

from PIL import Image

from govcrm.channels.uploads import MAX_FILES, max_request_bytes

from .conftest import BASE, assert_errors_json
from .test_post_requests import light, nothing_stored


def _png(i: int) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (i, 0, 0)).save(out, "PNG")
    out.seek(0)
    out.name = f"p{i}.png"
    return out


def test_too_many_photos_are_refused(city, web, api_key):
    photos = {f"photo{i}": _png(i) for i in range(MAX_FILES + 1)}
    errors = assert_errors_json(web.post(f"{BASE}/requests.json", {**light(api_key), **photos}), 400)
    assert "5" in errors[0]["description"]
    assert nothing_stored()
    ok = {f"photo{i}": _png(i) for i in range(MAX_FILES)}
    assert web.post(f"{BASE}/requests.json", {**light(api_key), **ok}).status_code == 201


def test_an_oversized_body_is_refused_before_it_is_read(city, web, api_key, settings):
    settings.GOVCRM_MAX_UPLOAD_BYTES = 1000
    limit = max_request_bytes()
    body = b"x" * 10  # the announced length is what counts: nothing is read
    r = web.generic("POST", f"{BASE}/requests.json", body, content_type="multipart/form-data; boundary=x",
                    CONTENT_LENGTH=str(limit + 1))
    assert r.status_code == 413
    assert nothing_stored()
    # The same for the portal.
    assert web.generic("POST", "/", body, content_type="multipart/form-data; boundary=x",
                       CONTENT_LENGTH=str(limit + 1)).status_code == 413
