from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CodesConfig(AppConfig):
    name = "codes"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from codes.message import LANGUAGES, message_text, sms_segments

        # The longest code in every language must fit one SMS: refuse to start otherwise.
        code = "0" * settings.OTP_LENGTH
        for language in LANGUAGES:
            text = message_text(code=code, language=language)
            if sms_segments(text) > 1:
                raise ImproperlyConfigured(
                    f"the {language} SMS takes {sms_segments(text)} segments, not 1: "
                    "shorten SMS_ORIGIN_DOMAIN or drop SMS_ANDROID_APP_HASH"
                )
