"""Share links: the public base URL, and the masked phone a stranger may see."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from common.links import invite_url, site_url
from common.phones import phone_mask


def test_site_url_wins_over_the_request_host(settings):
    settings.SITE_URL = "https://ref.example.com"
    request = RequestFactory().get("/", HTTP_HOST="localhost")
    assert invite_url(invite_code="ABC123", request=request) == "https://ref.example.com/r/ABC123/"


def test_without_site_url_the_link_uses_the_request(settings):
    settings.SITE_URL = ""
    request = RequestFactory().get("/", HTTP_HOST="localhost:8000")
    assert invite_url(invite_code="ABC123", request=request) == "http://localhost:8000/r/ABC123/"


def test_without_site_url_or_request_there_is_no_link(settings):
    settings.SITE_URL = ""
    with pytest.raises(ImproperlyConfigured):
        site_url(path="/r/ABC123/")


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+79991234567", "+7 ••• •••-••-67"),
        ("+447911123456", "+44 •••• ••••56"),
        ("+12025550143", "+1 •••-•••-••43"),
    ],
)
def test_a_masked_phone_keeps_the_country_and_the_last_two_digits(e164, masked):
    assert phone_mask(e164) == masked
