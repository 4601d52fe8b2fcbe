"""The Django service's protocol requirements."""

import pytest


@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_v2_requires_http2(upgrade):
    assert upgrade.legacy.response.status == 426
    response = upgrade.client.get("/v2/orders")
    assert response.http_version == "HTTP/2"
    assert response.json()["orders"]


# HTTP/1.1 on /v1/ is deprecated and ends on 2030-01-01 (settings.HTTP2_MIGRATIONS):
# until then it must still be served, with Deprecation and Sunset announcing the
# end; from that day on it must be refused with a proper 426.
@pytest.mark.requires_upgrade("h2", path="/v1/orders", after="2030-01-01")
def test_v1_moves_to_http2_on_its_sunset_date(upgrade):
    response = upgrade.client.get("/v1/orders")
    assert response.http_version == "HTTP/2"
    assert "sunset" not in response.headers  # the upgraded protocol is not deprecated


# HTTP/1.1 on /v0/ ended on 2026-01-01: every 426 check applies.
@pytest.mark.requires_upgrade("h2", path="/v0/orders", after="2026-01-01")
def test_v0_requires_http2_since_its_sunset_date(upgrade):
    assert upgrade.legacy.response.status == 426
