"""Identity links and accounts made on first sight, on both stores."""

from __future__ import annotations

import asyncio

import pytest

from panther_like.db import BaseUser, Database
from panther_like.db.identities import (
    Identity,
    IdentityTaken,
    find_identity,
    identities_of,
    link_identity,
    unlink_identity,
)
from panther_like.login_state.provisioning import provision_user

ISSUER = 'https://id.example.com'
OTHER_ISSUER = 'https://login.example.org'


class User(BaseUser):
    email: str | None = None


async def _user(username: str = 'ann') -> User:
    return await User.insert_one(username=username, password='')


async def test_a_linked_identity_is_found_by_issuer_and_subject(database: Database) -> None:
    user = await _user()
    await link_identity(user.saved_id, ISSUER, 'sub-1', 'ann@example.com', True)
    found = await find_identity(ISSUER, 'sub-1')
    assert found is not None
    assert (found.user_id, found.email, found.email_verified) == (user.id, 'ann@example.com', True)


async def test_the_same_subject_at_another_issuer_is_another_identity(database: Database) -> None:
    user = await _user()
    await link_identity(user.saved_id, ISSUER, 'sub-1')
    assert await find_identity(OTHER_ISSUER, 'sub-1') is None


async def test_linking_an_identity_held_by_another_account_is_refused(database: Database) -> None:
    ann, bob = await _user('ann'), await _user('bob')
    await link_identity(ann.saved_id, ISSUER, 'sub-1')
    with pytest.raises(IdentityTaken):
        await link_identity(bob.saved_id, ISSUER, 'sub-1')


async def test_identity_taken_is_a_conflict() -> None:
    from panther_like.app.dispatch import as_api_error

    error = as_api_error(IdentityTaken())
    assert error is not None and error.status_code == 409


async def test_linking_again_to_the_same_account_keeps_one_link(database: Database) -> None:
    user = await _user()
    await link_identity(user.saved_id, ISSUER, 'sub-1')
    await link_identity(user.saved_id, ISSUER, 'sub-1', 'new@example.com', True)
    links = await identities_of(user.saved_id)
    assert [(link.subject, link.email) for link in links] == [('sub-1', 'new@example.com')]


async def test_identities_of_lists_every_link_of_the_account(database: Database) -> None:
    user = await _user()
    await link_identity(user.saved_id, ISSUER, 'sub-1')
    await link_identity(user.saved_id, OTHER_ISSUER, 'other-sub')
    assert {link.issuer for link in await identities_of(user.saved_id)} == {ISSUER, OTHER_ISSUER}


async def test_unlinking_removes_only_that_issuers_link(database: Database) -> None:
    user = await _user()
    await link_identity(user.saved_id, ISSUER, 'sub-1')
    await link_identity(user.saved_id, OTHER_ISSUER, 'other-sub')
    assert await unlink_identity(user.saved_id, ISSUER) == 1
    assert [link.issuer for link in await identities_of(user.saved_id)] == [OTHER_ISSUER]


async def test_deleting_a_user_deletes_their_identities(database: Database) -> None:
    user = await _user()
    await link_identity(user.saved_id, ISSUER, 'sub-1')
    await user.delete()
    assert await find_identity(ISSUER, 'sub-1') is None


async def test_a_subject_with_any_characters_is_kept_apart_from_others(database: Database) -> None:
    user = await _user()
    await link_identity(user.saved_id, ISSUER, 'a\nb')
    assert await find_identity(ISSUER, 'a') is None
    assert (await find_identity(ISSUER, 'a\nb')) is not None


async def test_provisioning_makes_an_account_linked_to_the_subject(database: Database) -> None:
    user = await provision_user(ISSUER, {'sub': 'sub-1', 'preferred_username': 'Ann'}, user_model=User)
    assert user.username == 'Ann'
    link = await find_identity(ISSUER, 'sub-1')
    assert link is not None and link.user_id == user.id


async def test_provisioning_again_returns_the_same_account(database: Database) -> None:
    first = await provision_user(ISSUER, {'sub': 'sub-1', 'preferred_username': 'ann'}, user_model=User)
    again = await provision_user(ISSUER, {'sub': 'sub-1', 'preferred_username': 'renamed'}, user_model=User)
    assert again.id == first.id and await User.count() == 1


async def test_a_provisioned_account_has_no_usable_password(database: Database) -> None:
    user = await provision_user(ISSUER, {'sub': 'sub-1', 'preferred_username': 'ann'}, user_model=User)
    assert user.password == '' and not await user.verify_password('')


async def test_a_taken_username_gets_a_numbered_suffix(database: Database) -> None:
    await _user('ann')
    user = await provision_user(ISSUER, {'sub': 'sub-1', 'preferred_username': 'ANN'}, user_model=User)
    assert user.username == 'ANN-2'


async def test_a_username_the_rules_refuse_falls_back_to_a_plain_one(database: Database) -> None:
    user = await provision_user(ISSUER, {'sub': 'sub-1', 'preferred_username': 'a\u200bdmin'}, user_model=User)
    assert user.username == 'user'


async def test_a_verified_address_is_kept_on_the_account(database: Database) -> None:
    claims = {'sub': 'sub-1', 'preferred_username': 'ann', 'email': 'ann@example.com', 'email_verified': True}
    user = await provision_user(ISSUER, claims, user_model=User)
    assert (user.email, user.is_verified) == ('ann@example.com', True)


async def test_an_unverified_address_is_not_kept_on_the_account(database: Database) -> None:
    claims = {'sub': 'sub-1', 'preferred_username': 'ann', 'email': 'ann@example.com', 'email_verified': 'true'}
    user = await provision_user(ISSUER, claims, user_model=User)
    assert user.email is None


async def test_an_address_another_account_holds_is_left_off_and_never_merged(database: Database) -> None:
    owner = await User.insert_one(username='owner', password='', email='ann@example.com')
    claims = {'sub': 'sub-1', 'preferred_username': 'ann', 'email': 'ann@example.com', 'email_verified': True}
    user = await provision_user(ISSUER, claims, user_model=User)
    assert user.id != owner.id and user.email is None


async def test_twenty_simultaneous_first_sights_make_one_account(database: Database) -> None:
    claims = {'sub': 'sub-1', 'preferred_username': 'ann'}
    users = await asyncio.gather(*(provision_user(ISSUER, claims, user_model=User) for _ in range(20)))
    assert {user.id for user in users} == {users[0].id}
    assert await User.count() == 1
    assert await Identity.count() == 1
