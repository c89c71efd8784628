"""A WeChat photo larger than the upload limit is cut off while downloading and refused."""

from __future__ import annotations

from govcrm.channels.models import Attachment, Interaction
from govcrm.channels.wechat.client import media_get
from govcrm.channels.wechat.tasks import fetch_media

from .conftest import fixture
from .wechat_server import png_bytes


def test_an_oversized_photo_is_not_held_whole_and_is_refused(city, plain_wechat, wechat_api, settings):
    settings.GOVCRM_MAX_UPLOAD_BYTES = 2000
    plain_wechat.push(fixture("image.xml"))
    interaction = Interaction.objects.get(data__msg_type="image")
    media_id = interaction.data["media_id"]
    wechat_api.media[media_id] = (png_bytes() + b"\x00" * 50_000, "image/png")
    data, _ctype = media_get(media_id)
    assert len(data) == 2001  # read one byte past the limit, then stopped
    assert fetch_media.call(interaction.pk) == "refused"
    assert not Attachment.objects.exists()
