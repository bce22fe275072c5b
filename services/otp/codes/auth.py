"""Internal callers (the core service) authenticate with `Authorization: Bearer <OTP_SERVICE_TOKEN>`."""

import hmac

from django.conf import settings
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed


class ServiceClient:
    is_authenticated = True


class ServiceTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2 or not hmac.compare_digest(parts[1], settings.OTP_SERVICE_TOKEN.encode()):
            raise AuthenticationFailed()
        return ServiceClient(), None

    def authenticate_header(self, request):
        return 'Bearer realm="otp"'
