import threading

import pytest
from django.db import connection

from users import invite_codes
from users.models import User
from users.services import user_get_or_create_by_phone
from users.tests.factories import UserFactory


@pytest.mark.django_db
def test_first_call_creates_the_user_and_later_calls_find_it():
    user, created = user_get_or_create_by_phone(phone="+79991112233")
    assert created and user.phone == "+79991112233" and len(user.invite_code) == 6
    again, created_again = user_get_or_create_by_phone(phone="+79991112233")
    assert (again.pk, created_again) == (user.pk, False)


@pytest.mark.django_db
def test_an_invite_code_collision_draws_a_new_code(monkeypatch):
    taken = UserFactory().invite_code
    draws = iter([taken, taken, "NEW234"])
    monkeypatch.setattr("users.managers.invite_code_generate", lambda: next(draws))
    user, created = user_get_or_create_by_phone(phone="+79991112244")
    assert created and user.invite_code == "NEW234"
    assert User.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_sign_ins_of_one_phone_create_one_user():
    threads_count = 20
    barrier = threading.Barrier(threads_count)
    results, errors = [], []

    def sign_in():
        try:
            barrier.wait()
            results.append(user_get_or_create_by_phone(phone="+79995554433"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_in) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == threads_count
    assert {user.pk for user, _ in results} == {User.objects.get(phone="+79995554433").pk}
    assert sum(created for _, created in results) == 1
    assert User.objects.count() == 1
    assert len(User.objects.get().invite_code) == invite_codes.LENGTH
