"""Test phone numbers and how the pages print them."""

PHONE_A = "+79991110001"
PHONE_B = "+79991110002"
PHONE_C = "+79991110003"


def shown(e164: str) -> str:
    """How the pages print a Russian E.164 number: `+7 999 111-00-01`."""
    return f"{e164[:2]} {e164[2:5]} {e164[5:8]}-{e164[8:10]}-{e164[10:]}"
