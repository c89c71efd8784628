"""The Content-Security-Policy header: on the console's and the portal's pages, not the admin's."""

from govcrm.common.security import POLICY


def test_console_and_portal_pages_carry_the_policy(client, city):
    for path in ("/console/login/", "/"):
        response = client.get(path)
        assert response.status_code == 200
        assert response["Content-Security-Policy"] == POLICY
    assert "script-src 'self'" in POLICY and "'unsafe-inline'" not in POLICY


def test_admin_and_json_are_left_alone(client, city):
    assert "Content-Security-Policy" not in client.get("/admin/login/")
    assert "Content-Security-Policy" not in client.get("/healthz")
