from datetime import timedelta
from typing import TYPE_CHECKING, Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory
from rest_framework.test import APIClient

from users.invite_codes import invite_code_generate
from users.models import User
from users.tokens import token_pair_issue


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User

    phone = factory.Sequence(lambda n: f"+7999{n:07d}")
    invite_code = factory.LazyFunction(invite_code_generate)

    if TYPE_CHECKING:
        # factory_boy's metaclass makes `UserFactory(...)` a `create()`; this tells the type checker.
        def __new__(cls, *args: Any, **kwargs: Any) -> User: ...  # type: ignore[misc]

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create_user(*args, **kwargs)


def referrals_make(inviter: User, count: int) -> list[User]:
    """`count` users who activated `inviter`'s code, one second apart (newest last), in two queries."""
    start = timezone.now() - timedelta(days=1)
    users = [
        User(
            phone=f"+7998{inviter.pk % 1000:03d}{n:04d}",
            invite_code=invite_code_generate(),
            invited_by=inviter,
            invite_activated_at=start + timedelta(seconds=n),
        )
        for n in range(count)
    ]
    User.objects.bulk_create(users)
    User.objects.filter(pk=inviter.pk).update(referrals_count=count)
    inviter.refresh_from_db()
    return users


def client_for(user: User) -> APIClient:
    """An API client signed in as `user` (Bearer access token)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=user).access}")
    return client
