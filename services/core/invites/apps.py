from django.apps import AppConfig


class InvitesConfig(AppConfig):
    name = "invites"

    def ready(self) -> None:
        from invites import receivers  # noqa: F401 - connects the sign-in receiver
