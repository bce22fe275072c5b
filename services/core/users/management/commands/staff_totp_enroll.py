"""Give a staff account its authenticator for the admin's second factor:

    python manage.py staff_totp_enroll +79990000000            # the first one
    python manage.py staff_totp_enroll +79990000000 --reset    # a lost or replaced phone

Prints the otpauth:// URI and its QR code once: scan it with an authenticator app (any app that
reads otpauth:// URIs, RFC 6238 TOTP). The secret is never shown again, in the admin neither.
"""

import io

import segno
from django.core.management.base import BaseCommand, CommandError

from common.phones import phone_normalize
from svckit.errors import ApplicationError
from svckit.phones import InvalidPhone
from users.admin_totp import staff_totp_enroll


class Command(BaseCommand):
    help = "Enrol (or with --reset replace) the TOTP authenticator a staff account signs in to the admin with."

    def add_arguments(self, parser):
        parser.add_argument("phone", help="the staff account's phone, any common format, e.g. +79990000000")
        parser.add_argument(
            "--reset", action="store_true", help="replace the account's authenticator: the old one stops working"
        )

    def handle(self, *args, phone: str, reset: bool, **options):
        try:
            device = staff_totp_enroll(phone=phone_normalize(phone), reset=reset)
        except InvalidPhone as error:
            raise CommandError(f"{phone!r}: {error.human_message()}") from error
        except ApplicationError as error:
            raise CommandError(error.human_message()) from error
        uri = device.config_url
        self.stdout.write(f"Authenticator for {device.user.get_username()}: scan the QR code or enter the URI.\n")
        qr = io.StringIO()  # segno writes piecemeal; the command's stdout would end each piece with a newline
        segno.make(uri, error="m").terminal(out=qr, compact=True)
        self.stdout.write(qr.getvalue())
        self.stdout.write(uri)
        self.stdout.write(
            "This is shown once; anyone who sees it can make the codes. Sign in at /admin/ with the phone, "
            "the password and the app's current code. Lost it? Run this again with --reset."
        )
