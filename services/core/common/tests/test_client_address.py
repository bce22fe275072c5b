"""Every per-address limit keys a client by `client_address`: an IPv4 address as is, an IPv6 client
by its /64 (the block an ISP gives one subscriber), an IPv4-mapped IPv6 address as its IPv4 one.
Tried as an attacker would: rotating addresses inside one /64 buys no fresh budget."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.throttles import client_address
from users.tests.staff import (
    STAFF_PASSWORD,
    STAFF_PHONE,
    admin_sign_in,
    enrolled_superuser,
    signed_in_to_admin,
    totp_code,
)

CODE_URL = "/api/v1/auth/code/"


def _address(remote_addr: str, forwarded_for: str | None = None) -> str:
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr)
    if forwarded_for:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client_address(request)


@pytest.mark.parametrize(
    ("remote_addr", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("::1", "::"),
        ("fe80::1%eth0", "fe80::"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_the_key_of_an_address(remote_addr, key):
    assert _address(remote_addr) == key


def test_behind_a_trusted_proxy_the_forwarded_address_is_keyed_the_same_way(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert _address("10.0.0.1", "6.6.6.6, 2001:db8:7:8::42") == "2001:db8:7:8::"
    assert _address("10.0.0.1", " ::ffff:198.51.100.4 ") == "198.51.100.4"


def _send(api, address: str):
    return api.post(CODE_URL, {"phone": "89991234567"}, format="json", REMOTE_ADDR=address)


def test_addresses_of_one_ipv6_64_share_the_api_budget(api, fake_otp, settings):
    settings.THROTTLE_AUTH_PER_IP = "3/min"
    rotating = [f"2001:db8:5:6:{n:x}::{n:x}" for n in range(1, 5)]
    assert [_send(api, address).status_code for address in rotating] == [202, 202, 202, 429]
    # The next /64 is another subscriber, with its own budget.
    assert _send(api, "2001:db8:5:7::1").status_code == 202


def test_an_ipv4_mapped_address_is_the_ipv4_client(api, fake_otp, settings):
    settings.THROTTLE_AUTH_PER_IP = "2/min"
    assert _send(api, "198.51.100.9").status_code == 202
    assert _send(api, "::ffff:198.51.100.9").status_code == 202
    assert _send(api, "::ffff:c633:6409").status_code == 429  # the same address, written in hex
    assert _send(api, "198.51.100.10").status_code == 202


@pytest.mark.django_db
def test_the_admin_login_lockout_counts_one_ipv6_64_as_one_address(client):
    enrolled_superuser(STAFF_PHONE, STAFF_PASSWORD)
    for n in range(1, 6):
        admin_sign_in(client, phone=STAFF_PHONE, password="wrong", address=f"2001:db8:9:9::{n:x}")
    code = totp_code(TOTPDevice.objects.get(user__phone=STAFF_PHONE))
    right = {"phone": STAFF_PHONE, "password": STAFF_PASSWORD, "code": code}
    assert admin_sign_in(client, **right, address="2001:db8:9:9:ffff::1").status_code == 429
    assert signed_in_to_admin(admin_sign_in(client, **right, address="2001:db8:9:a::1"))
