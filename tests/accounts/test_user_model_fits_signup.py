"""A ``USER_MODEL`` with a required field that signup cannot set is refused when the app is built.

Signup sets the username, the password and the model's ``editable_fields``;
any other field without a default would make every signup fail. The error
names the model, the field and the two ways out; it is raised only when the
account routes are mounted, since a project that creates users itself may
set the field.
"""

from __future__ import annotations

import pytest

from panther_like import BaseUser, Panther
from panther_like.accounts import accounts_urls
from panther_like.exceptions import ConfigError
from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, SECRET_KEY
from tests.settings import settings_module


class Employee(BaseUser):
    badge: str


class EditableBadgeEmployee(BaseUser):
    badge: str

    editable_fields = frozenset({'badge'})


class DefaultBadgeEmployee(BaseUser):
    badge: str = 'visitor'


def build(tmp_path, model, urls) -> Panther:
    return Panther(
        settings_module(
            SECRET_KEY=SECRET_KEY, URLS=urls, USER_MODEL=model, DATABASE={'path': str(tmp_path / 'db.sqlite3')}
        )
    )


def test_a_required_field_signup_cannot_set_is_refused_when_the_account_routes_are_mounted(tmp_path):
    with pytest.raises(ConfigError) as info:
        build(tmp_path, Employee, {'auth/': accounts_urls})
    message = str(info.value)
    assert 'USER_MODEL' in message and 'Employee' in message and 'badge' in message


def test_the_refusal_says_how_to_fix_it(tmp_path):
    with pytest.raises(ConfigError) as info:
        build(tmp_path, Employee, {'auth/': accounts_urls})
    assert 'default' in info.value.reason and 'editable_fields' in info.value.reason


def test_the_model_is_accepted_without_the_account_routes(tmp_path):
    build(tmp_path, Employee, {'nothing/': {}})


def test_the_model_is_accepted_when_the_field_has_a_default(tmp_path):
    build(tmp_path, DefaultBadgeEmployee, {'auth/': accounts_urls})


@pytest.mark.asyncio
async def test_a_required_editable_field_is_accepted_and_signup_sets_it(tmp_path):
    async with TestClient(build(tmp_path, EditableBadgeEmployee, {'auth/': accounts_urls})) as client:
        response = await client.post('/auth/signup', json={'username': 'ann', 'password': PASSWORD, 'badge': 'B-7'})
    assert response.status_code == 201 and response.json()['badge'] == 'B-7'
