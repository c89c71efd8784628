"""Parsing what Open311 clients send: query strings and form bodies, into frozen dataclasses.

Only syntax is checked here (numbers, dates, lists, URLs, pictures); what the data means (does the
service exist, are its required attributes there) is checked by `actions`.

Rules (GeoReport v2 and mySociety's extension, see docs in README.md):
- An empty parameter is the same as an absent one.
- Datetimes are W3C (ISO 8601) with a zone; a bare date (2024-05-03) means its midnight here.
- `attribute[CODE]=v`, and for several values `attribute[CODE][]=v1&attribute[CODE][]=v2`
  (or the same key repeated); `media_url` may be repeated.
- A description is at most 4000 characters; lat and long come together, in WGS84 range.
- GET requests: `service_request_id` (a comma list) overrides every other filter; the window on
  the requested time spans at most 90 days and defaults to the last 90 days; at most 1000
  requests per page (`page` from 1, `page_size` ≤ 1000, the pagination extension).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from govcrm.channels.uploads import MAX_FILES, CleanFile, clean_image
from govcrm.common.errors import ValidationFailed

from .render import Open311Error

MAX_DESCRIPTION = 4000
MAX_WINDOW = dt.timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_IDS = 1000
ATTRIBUTE_RE = re.compile(r"^attribute\[([^\]\[]+)\](\[\])?$")
# Not part of what a request says, so not part of its fingerprint.
CREDENTIAL_FIELDS = frozenset({"api_key", "jurisdiction_id"})
REQUEST_STATUSES = ("open", "closed")
# mySociety's extended statuses, sent upper case on POST servicerequestupdates (open311-adapter's
# status_extended_upper), plus UNCHANGED and CANCELLED, which FixMyStreet also sends.
UPDATE_STATUSES = frozenset({
    "OPEN", "CLOSED", "FIXED", "IN_PROGRESS", "ACTION_SCHEDULED", "INVESTIGATING", "DUPLICATE",
    "NOT_COUNCILS_RESPONSIBILITY", "NO_FURTHER_ACTION", "INTERNAL_REFERRAL", "REOPEN", "FOR_TRIAGE",
    "UNCHANGED", "CANCELLED", "PLANNED",
})
_url = URLValidator(schemes=["http", "https"])


def bad(description: str) -> Open311Error:
    return Open311Error(400, description)


def opt(q: QueryDict, name: str) -> str:
    """A parameter's value, stripped; "" when absent or empty."""
    return (q.get(name) or "").strip()


def comma_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_datetime(value: str, name: str) -> dt.datetime:
    """A W3C datetime with its zone, or a bare date at local midnight; else a 400 error."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = dt.date.fromisoformat(value)
            return timezone.make_aware(dt.datetime.combine(day, dt.time()))
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise bad(_("%(name)s must be a W3C datetime with a time zone, e.g. 2024-05-03T12:00:00+08:00.")
                  % {"name": name})
    return parsed


def _media_urls(q: QueryDict) -> tuple[str, ...]:
    urls = [u.strip() for key in ("media_url", "media_url[]") for u in q.getlist(key) if u.strip()]
    for u in urls:
        try:
            _url(u)
        except ValidationError:
            raise bad(_("media_url must be an http or https URL.")) from None
    return tuple(urls)


def _attributes(q: QueryDict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key in q:
        m = ATTRIBUTE_RE.match(key)
        if m:
            values = [v.strip() for v in q.getlist(key) if v.strip()]
            if values:
                out.setdefault(m.group(1), []).extend(values)
    return out


def _photos(files) -> tuple[CleanFile, ...]:
    """Pictures sent inline (FixMyStreet's multipart `photo1`, `photo2`…), checked and stripped of EXIF."""
    out = []
    if sum(len(files.getlist(key)) for key in files) > MAX_FILES:
        raise bad(_("At most %(n)d photos may be sent with one request.") % {"n": MAX_FILES})
    for key in sorted(files):
        for f in files.getlist(key):
            try:
                out.append(clean_image(f.read(), f.name or key, field=key))
            except ValidationFailed as exc:
                raise bad(f"{key}: {exc.message}") from None
    return tuple(out)


def _fingerprint(q: QueryDict, photos: tuple[CleanFile, ...]) -> str:
    fields = sorted((k, q.getlist(k)) for k in q if k not in CREDENTIAL_FIELDS)
    payload = json.dumps([fields, [p.sha256 for p in photos]], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _location(q: QueryDict) -> tuple[float | None, float | None]:
    lat, lon = opt(q, "lat"), opt(q, "long")
    if not lat and not lon:
        return None, None
    try:
        lat_f, lon_f = float(lat), float(lon)
    except ValueError:
        raise bad(_("lat and long must both be given, as decimal degrees (WGS84).")) from None
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        raise bad(_("lat or long is out of range."))
    return lat_f, lon_f


@dataclass(frozen=True)
class PersonFields:
    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""

    @property
    def name(self) -> str:
        """The full name: family name first without a space for Chinese names, else "first last"."""
        first = "" if self.first_name == "-" else self.first_name
        last = "" if self.last_name == "-" else self.last_name
        if re.search(r"[\u3400-\u9fff]", first + last):
            return f"{last}{first}"
        return f"{first} {last}".strip()


def _person(q: QueryDict) -> PersonFields:
    return PersonFields(email=opt(q, "email"), phone=opt(q, "phone"), first_name=opt(q, "first_name")[:100],
                        last_name=opt(q, "last_name")[:100])


def _description(q: QueryDict) -> str:
    text = (q.get("description") or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_DESCRIPTION:
        raise bad(_("The description is longer than %(n)d characters.") % {"n": MAX_DESCRIPTION})
    return text


@dataclass(frozen=True)
class ServiceRequestForm:
    """A POST requests.[fmt], parsed."""

    service_code: str
    description: str = ""
    lat: float | None = None
    lon: float | None = None
    address_string: str = ""
    address_id: str = ""
    person: PersonFields = field(default_factory=PersonFields)
    device_id: str = ""
    account_id: str = ""
    media_urls: tuple[str, ...] = ()
    attributes: dict[str, list[str]] = field(default_factory=dict)
    case_type: str = "help"
    photos: tuple[CleanFile, ...] = ()
    fingerprint: str = ""


def service_request_form(q: QueryDict, files) -> ServiceRequestForm:
    service_code = opt(q, "service_code")
    if not service_code:
        raise bad(_("service_code was not provided."))
    lat, lon = _location(q)
    address_string, address_id = opt(q, "address_string"), opt(q, "address_id")
    if lat is None and not address_string and not address_id:
        raise bad(_("A location is required: lat and long, address_string or address_id."))
    if len(address_string) > 300:
        raise bad(_("address_string is longer than %(n)d characters.") % {"n": 300})
    case_type = opt(q, "case_type") or "help"
    if case_type not in ("help", "complaint"):
        raise bad(_("case_type is help or complaint."))
    photos = _photos(files)
    return ServiceRequestForm(
        service_code=service_code, description=_description(q), lat=lat, lon=lon,
        address_string=address_string, address_id=address_id[:100], person=_person(q),
        device_id=(opt(q, "device_id") or opt(q, "deviceid"))[:100], account_id=opt(q, "account_id")[:100],
        media_urls=_media_urls(q), attributes=_attributes(q), case_type=case_type, photos=photos,
        fingerprint=_fingerprint(q, photos),
    )


@dataclass(frozen=True)
class ServiceRequestUpdateForm:
    """A POST servicerequestupdates.[fmt] (mySociety's extension), parsed."""

    service_request_id: str
    update_id: str
    status: str
    updated_datetime: dt.datetime
    description: str = ""
    person: PersonFields = field(default_factory=PersonFields)
    media_urls: tuple[str, ...] = ()
    attributes: dict[str, list[str]] = field(default_factory=dict)
    extras: dict[str, str] = field(default_factory=dict)
    photos: tuple[CleanFile, ...] = ()


UPDATE_EXTRAS = ("title", "account_id", "service_code", "service_request_id_ext", "public_anonymity_required",
                 "email_alerts_requested", "external_status_code")


def service_request_update_form(q: QueryDict, files) -> ServiceRequestUpdateForm:
    missing = [name for name in ("service_request_id", "update_id", "status", "updated_datetime")
               if not opt(q, name)]
    if "description" not in q:
        missing.append("description")
    if missing:
        raise bad(_("Bad request: %(fields)s") % {"fields": ", ".join(missing)})
    status = opt(q, "status").upper()
    if status not in UPDATE_STATUSES:
        raise bad(_("Unknown status: %(status)s") % {"status": opt(q, "status")})
    update_id = opt(q, "update_id")
    if len(update_id) > 100:
        raise bad(_("update_id is longer than %(n)d characters.") % {"n": 100})
    return ServiceRequestUpdateForm(
        service_request_id=opt(q, "service_request_id"), update_id=update_id, status=status,
        updated_datetime=parse_datetime(opt(q, "updated_datetime"), "updated_datetime"),
        description=_description(q), person=_person(q), media_urls=_media_urls(q), attributes=_attributes(q),
        extras={k: opt(q, k)[:200] for k in UPDATE_EXTRAS if opt(q, k)}, photos=_photos(files),
    )


@dataclass(frozen=True)
class RequestQuery:
    """The filters of GET requests.[fmt]."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: tuple[str, ...] = ()
    page: int = 1
    page_size: int = MAX_PAGE_SIZE


def _int(q: QueryDict, name: str, default: int, low: int, high: int) -> int:
    raw = opt(q, name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise bad(_("%(name)s must be a whole number from %(low)d to %(high)d.")
                  % {"name": name, "low": low, "high": high})
    return value


def window(q: QueryDict, *, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """start_date/end_date: at most 90 days apart; one alone spans 90 days from it; none: the last 90 days."""
    start = parse_datetime(opt(q, "start_date"), "start_date") if opt(q, "start_date") else None
    end = parse_datetime(opt(q, "end_date"), "end_date") if opt(q, "end_date") else None
    if start and end:
        if start > end:
            raise bad(_("start_date is after end_date."))
        if end - start > MAX_WINDOW:
            raise bad(_("start_date and end_date may not span more than 90 days."))
    elif start:
        end = start + MAX_WINDOW
    elif end:
        start = end - MAX_WINDOW
    else:
        end, start = now, now - MAX_WINDOW
    return start, end


def paging(q: QueryDict) -> tuple[int, int]:
    return _int(q, "page", 1, 1, 1_000_000), _int(q, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)


def request_query(q: QueryDict, *, now: dt.datetime) -> RequestQuery:
    page, page_size = paging(q)
    ids = tuple(comma_list(opt(q, "service_request_id")))
    if ids:
        if len(ids) > MAX_IDS:
            raise bad(_("At most %(n)d service_request_id at once.") % {"n": MAX_IDS})
        return RequestQuery(ids=ids, page=page, page_size=page_size)
    statuses = tuple(s.lower() for s in comma_list(opt(q, "status")))
    unknown = [s for s in statuses if s not in REQUEST_STATUSES]
    if unknown:
        raise bad(_("status is open or closed, not %(value)s.") % {"value": ", ".join(unknown)})
    start, end = window(q, now=now)
    return RequestQuery(service_codes=tuple(comma_list(opt(q, "service_code"))), start=start, end=end,
                        statuses=statuses, page=page, page_size=page_size)
