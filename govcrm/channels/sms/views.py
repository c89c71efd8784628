"""The inbound SMS webhook: POST /channels/sms/inbound.

The format is told by the request: an `X-Twilio-Signature` header means Twilio-style form fields,
anything else is the generic JSON form signed with `X-GovCRM-Signature`. The signature is checked
before anything is parsed; a bad one is answered 403 and nothing is stored. The answer is in the
provider's format: Twilio gets an empty TwiML `<Response/>` (the citizen's acknowledgement goes
through the notifications outbox, so it is not sent twice), the generic form gets
`{"status": …, "case": <number or null>}`.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from govcrm.common.errors import DomainError

from .actions import sms_receive
from .parsing import parse_generic, parse_twilio
from .signatures import GENERIC_HEADER, TWILIO_HEADER, generic_valid, twilio_valid

logger = logging.getLogger(__name__)

TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _twiml(status: int = 200) -> HttpResponse:
    return HttpResponse(TWIML_EMPTY, content_type="text/xml; charset=utf-8", status=status)


@csrf_exempt
@require_POST
def inbound(request):
    secret = settings.GOVCRM_SMS_SECRET
    twilio_header = request.headers.get(TWILIO_HEADER)
    if twilio_header is not None:
        params = [(k, v) for k, values in request.POST.lists() for v in values]
        if not twilio_valid(secret, request.build_absolute_uri(), params, twilio_header):
            logger.warning("SMS webhook: bad Twilio signature from %s", request.META.get("REMOTE_ADDR"))
            return HttpResponse("invalid signature", status=403, content_type="text/plain")
        try:
            sms_receive(parse_twilio(request.POST))
        except DomainError as err:
            logger.warning("SMS webhook: refused Twilio message: %s", err.message)
            return _twiml(status=err.status)
        return _twiml()
    body = request.body
    if not generic_valid(secret, body, request.headers.get(GENERIC_HEADER)):
        logger.warning("SMS webhook: bad signature from %s", request.META.get("REMOTE_ADDR"))
        return JsonResponse({"status": "error", "error": "invalid signature"}, status=403)
    try:
        outcome = sms_receive(parse_generic(body))
    except DomainError as err:
        return JsonResponse({"status": "error", "error": err.message, "details": err.details}, status=err.status)
    return JsonResponse({"status": "ok", "case": outcome.case_number, "result": outcome.status})
