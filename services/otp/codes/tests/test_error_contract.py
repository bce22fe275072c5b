"""The core reads this service's refusals back through svckit.otp.OTP_ERRORS: every refusal the API
documents is in that table, with the status its class declares; the rest the core calls unavailable."""

import re

from rest_framework.test import APIClient

from svckit.otp import OTP_ERRORS

# Answers the core never passes on to its own clients: its request was wrong, its token was, or we are down.
NOT_PASSED_ON = {"validation_error", "malformed_request", "not_authenticated", "unavailable"}


def test_every_documented_refusal_is_in_the_contract_table():
    schema = APIClient().get("/schema.json").json()
    base = schema.get("basePath", "").rstrip("/")
    paths = {base + path: spec for path, spec in schema["paths"].items()}
    documented = set()
    for path in ("/v1/codes/", "/v1/codes/verify/"):
        for status, answer in paths[path]["post"]["responses"].items():
            found = re.search(r"Codes: ([a-z_, ]+)\.", answer["description"])
            for code in found.group(1).split(", ") if found else []:
                documented.add(code)
                if code not in NOT_PASSED_ON:
                    assert (code, OTP_ERRORS[code].status) == (code, int(status)), path
    assert documented - NOT_PASSED_ON == set(OTP_ERRORS)
