from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.base_user import BaseUserManager

from common.phones import phone_normalize
from users.invite_codes import invite_code_generate

if TYPE_CHECKING:
    from users.models import User  # noqa: F401 (the quoted base class below)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **extra):
        """One INSERT; an invite-code collision surfaces as IntegrityError (callers retry)."""
        extra.setdefault("invite_code", invite_code_generate())
        user = self.model(phone=phone_normalize(phone), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()  # phone users sign in with one-time codes only
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(phone, password, **extra)
