"""Give one user N referrals in a few bulk INSERTs: the data of the benchmark's profile scenario.

    python manage.py seed_referrals --phone +79990000001 --count 10000

The referrals get fictitious numbers (+888, derived from the owner's id, so reruns never collide)
and fresh invite codes; the owner's referrals_count grows by N in the same transaction; then the
table is analysed, as after any bulk load. For load tests and demos only.
"""

from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from common.phones import phone_normalize
from users.invite_codes import invite_code_generate
from users.models import User
from users.services import user_get_or_create_by_phone

MAX_COUNT = 999_999  # six digits of sequence in the fictitious numbers


def _fresh_invite_codes(count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        batch = {invite_code_generate() for _ in range(count - len(codes))}
        codes |= batch - set(User.objects.filter(invite_code__in=batch).values_list("invite_code", flat=True))
    return list(codes)


class Command(BaseCommand):
    help = "Create the user with this phone if needed and give it N more referrals (load tests only)."

    def add_arguments(self, parser):
        parser.add_argument("--phone", required=True, help="the owner, e.g. +79990000001")
        parser.add_argument("--count", type=int, default=10_000, help="referrals to add (default 10000)")

    def handle(self, *args, phone: str, count: int, **options):
        if not 0 < count <= MAX_COUNT:
            raise CommandError(f"--count must be between 1 and {MAX_COUNT}")
        owner, _ = user_get_or_create_by_phone(phone=phone_normalize(phone))
        first = owner.referrals_count  # numbers seeded earlier stay below this sequence number
        if first + count > MAX_COUNT:
            raise CommandError(f"{owner.phone} already has {first} referrals; at most {MAX_COUNT} in all")
        now = timezone.now()
        unusable = make_password(None)  # phone users never have a usable password
        referrals = [
            User(
                phone=f"+888{owner.pk % 10**6:06d}{first + i:06d}",
                invite_code=code,
                invited_by_id=owner.pk,
                # One millisecond apart, the newest last, so "newest first" has a single answer.
                invite_activated_at=now - timedelta(milliseconds=count - i),
                date_joined=now - timedelta(milliseconds=count - i),
                password=unusable,
            )
            for i, code in enumerate(_fresh_invite_codes(count))
        ]
        with transaction.atomic():
            User.objects.bulk_create(referrals, batch_size=5_000)
            User.objects.filter(pk=owner.pk).update(referrals_count=F("referrals_count") + count)
        if connection.vendor == "postgresql":
            # Fresh statistics, as autovacuum would gather soon after: without them the planner
            # guesses a handful of rows per inviter and sorts all 10,000 instead of reading the index.
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(User._meta.db_table)}")
        self.stdout.write(f"{owner.phone} ({owner.invite_code}) now has {first + count} referrals")
