"""The WeChat Official Account server URL: GET and POST /channels/wechat/.

GET is WeChat's URL verification: the echo is returned once the signature is checked. POST is a
push: signature (and in safe mode `msg_signature` and decryption) first, then safe XML parsing,
then `wechat_receive`, which only writes to the database; the passive reply goes back in the
same response, well within WeChat's 5 seconds. Slow work (downloading photos) is left to tasks.
Answers: 403 for a bad signature, 400 for malformed or dangerous XML (nothing stored in either
case), the reply XML (encrypted in safe mode), or "success" when there is nothing to say.
"""

from __future__ import annotations

import logging

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .actions import wechat_receive
from .protocol import (
    BadRequest,
    BadSignature,
    check_signature,
    decrypt_body,
    parse_push,
    read_xml,
    render_reply,
    safe_mode,
    verify_echo,
)

logger = logging.getLogger(__name__)


def _plain(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, content_type="text/plain; charset=utf-8", status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def endpoint(request):
    try:
        if request.method == "GET":
            return _plain(verify_echo(request.GET))
        check_signature(request.GET)
        body = request.body
        fields = read_xml(body)
        if safe_mode():
            xml = decrypt_body(fields, request.GET)
            fields = read_xml(xml)
        else:
            xml = body.decode("utf-8")
        push = parse_push(xml, fields)
    except BadSignature as err:
        logger.warning("WeChat: bad signature (%s) from %s", err, request.META.get("REMOTE_ADDR"))
        return _plain("forbidden", status=403)
    except (BadRequest, UnicodeDecodeError) as err:
        logger.warning("WeChat: bad request (%s) from %s", err, request.META.get("REMOTE_ADDR"))
        return _plain("bad request", status=400)
    outcome = wechat_receive(push)
    if not outcome.reply:
        return _plain("success")
    return HttpResponse(render_reply(push, outcome.reply, request.GET), content_type="application/xml; charset=utf-8")

