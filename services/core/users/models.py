"""The user is a phone number. Referral rules that must hold under concurrency are constraints here."""

from typing import ClassVar

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from svckit.phones import E164_PATTERN
from users import invite_codes
from users.managers import UserManager


class User(AbstractBaseUser, PermissionsMixin):
    phone = models.CharField(
        max_length=16,
        unique=True,
        validators=[RegexValidator(E164_PATTERN, "Enter the number in E.164, e.g. +79991234567.")],
        help_text="E.164, e.g. +79991234567",
    )
    invite_code = models.CharField(max_length=invite_codes.LENGTH, unique=True)
    # The composite index in Meta starts with invited_by, so it also serves every FK lookup.
    invited_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,  # referral history is kept: users are deactivated, not deleted
        related_name="referrals",
    )
    invite_activated_at = models.DateTimeField(null=True, blank=True)
    # Kept by invite_activate in the same transaction (F() + 1), so the profile count is O(1).
    referrals_count = models.PositiveIntegerField(default=0)
    date_joined = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can log into the admin site.")

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        indexes = [
            # "My referrals, newest first" (profile, cursor pages) is one index range scan.
            models.Index(fields=["invited_by", "-invite_activated_at", "-id"], name="user_referrals_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(phone__regex=E164_PATTERN), name="user_phone_e164"),
            models.CheckConstraint(
                condition=Q(invite_code__regex=invite_codes.PATTERN), name="user_invite_code_alphabet"
            ),
            models.CheckConstraint(
                condition=Q(invited_by__isnull=True) | ~Q(invited_by=F("id")), name="user_not_invited_by_self"
            ),
            models.CheckConstraint(
                condition=Q(invited_by__isnull=True, invite_activated_at__isnull=True)
                | Q(invited_by__isnull=False, invite_activated_at__isnull=False),
                name="user_invite_activation_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.phone
