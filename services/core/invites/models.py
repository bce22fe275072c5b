"""Views of the users table the admin shows under Invites (proxies: no tables of their own)."""

from users.models import User


class Inviter(User):
    """A user who has referrals: the admin's top-inviters list."""

    class Meta:
        proxy = True
        verbose_name = "top inviter"
        verbose_name_plural = "top inviters"


class Referral(User):
    """A user who activated someone's code: the admin's referrals list and its CSV export."""

    class Meta:
        proxy = True
        verbose_name = "referral"
        verbose_name_plural = "referrals"
