"""Our endpoint driven over real HTTP by a published Open311 client, `georeport` from PyPI.

georeport 0.3.1 reads services, definitions and requests but has no call to POST a request, so
the POST is made here the way its GETs are made (`requests`, its root address, key and
jurisdiction) and the result is read back through georeport itself.
"""

import threading

import pytest
import requests
import xmltodict
from django.conf import settings
from georeport import GeoReport

from govcrm.cases.models import Case
from govcrm.channels.open311.actions import open311_client_create

from .conftest import POTHOLE, validate

# transaction=True: the live server's thread must see what the test commits; serialized_rollback
# restores the reference data (categories) of the data migrations after the flush.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


class PostingGeoReport(GeoReport):
    """georeport plus the one call it lacks: POST requests.[fmt], form-encoded as the spec says."""

    def post_service_request(self, **fields) -> list | dict:
        data = {"api_key": self.api_key, **fields}
        if self.jurisdiction:
            data["jurisdiction_id"] = self.jurisdiction
        response = requests.post(f"{self.root_address}/requests.{self.output_format}", data=data, timeout=30)
        response.raise_for_status()
        if self.output_format == "json":
            return response.json()
        return xmltodict.parse(response.content)["service_requests"]["request"]


@pytest.fixture
def endpoint(live_server, city, questions, monkeypatch):
    # Every HTTP connection is closed after its answer, so that no server thread is left waiting on a
    # kept-alive socket when the session stops the server and its shared in-memory database connection.
    def closing_headers():
        headers = requests.utils.default_headers()
        headers["Connection"] = "close"
        return headers

    monkeypatch.setattr(requests.sessions, "default_headers", closing_headers)
    _client, key = open311_client_create(name="georeport")
    yield f"{live_server.url}/open311/v2", key
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name:
            thread.join(timeout=5)


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_list_post_and_read_back_through_georeport(endpoint, output_format):
    root, key = endpoint
    client = PostingGeoReport(root, jurisdiction=settings.GOVCRM_JURISDICTION, api_key=key,
                              output_format=output_format)

    services = client.get_service_list()
    pothole = next(s for s in services if s["service_code"] == POTHOLE)
    if output_format == "json":
        validate(services, "services.json")
        assert pothole["metadata"] is True
    else:
        assert pothole["metadata"] == "true"

    definition = client.get_service_definition(POTHOLE)
    attributes = definition["attributes"] if output_format == "json" else definition["attributes"]["attribute"]
    required = [a for a in attributes if a["required"] in (True, "true")]
    assert [a["code"] for a in required] == ["depth"]

    answer = client.post_service_request(service_code=POTHOLE, description="Deep pothole near the bus stop",
                                         lat="39.915119", long="116.403963", email="citizen@example.org",
                                         **{"attribute[depth]": "deep"})
    number = answer[0]["service_request_id"] if output_format == "json" else answer["service_request_id"]
    assert Case.objects.get(number=number).channel == "open311"

    one = client.get_service_request(number)
    assert one["service_request_id"] == number and one["service_code"] == POTHOLE and one["status"] == "open"
    listed = client.get_service_requests(service_code=POTHOLE, status="open")
    if output_format == "json":
        validate(listed, "requests.json")
        assert [r["service_request_id"] for r in listed] == [number]
    else:
        assert listed["service_request_id"] == number  # xmltodict: one element is a dict
    by_id = client.get_service_requests(service_request_id=number)
    assert (by_id[0] if output_format == "json" else by_id)["service_request_id"] == number
    assert "citizen@example.org" not in str(one) + str(listed)


def test_refusals_reach_the_client_as_http_errors(endpoint):
    root, _key = endpoint
    client = PostingGeoReport(root, api_key="o311_not-a-key")
    with pytest.raises(requests.HTTPError) as refused:
        client.post_service_request(service_code=POTHOLE, lat="39.9", long="116.4", **{"attribute[depth]": "deep"})
    assert refused.value.response.status_code == 403
    assert refused.value.response.json()[0]["code"] == 403
    with pytest.raises(requests.HTTPError) as missing:
        GeoReport(root).get_service_definition("no.such.service")
    assert missing.value.response.status_code == 404
    assert Case.objects.count() == 0
