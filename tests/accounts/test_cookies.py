"""Browser sessions: the cookies login and refresh set, the CSRF check, and logout removing them."""

from __future__ import annotations

from panther_like.testing import TestClient
from tests.accounts.conftest import PASSWORD, bearer, cookie_value, login, set_cookies, signup


async def _browser_login(client: TestClient) -> tuple[dict, str, str, str]:
    await signup(client)
    response = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
    access, refresh, csrf = (cookie_value(response, name) for name in ('access_token', 'refresh_token', 'csrftoken'))
    return response.json(), access, refresh, csrf


async def test_login_sets_the_three_cookies_with_safe_attributes(accounts_client: TestClient):
    await signup(accounts_client)
    response = await accounts_client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
    cookies = set_cookies(response)
    access, refresh, csrf = cookies['access_token'], cookies['refresh_token'], cookies['csrftoken']
    assert all(part in access for part in ('HttpOnly', 'SameSite=Lax', 'Path=/;', 'Secure', 'Max-Age=86400'))
    assert all(part in refresh for part in ('HttpOnly', 'SameSite=Strict', 'Path=/auth/refresh', 'Secure'))
    assert 'HttpOnly' not in csrf and 'Secure' in csrf and 'SameSite=Lax' in csrf
    assert cookie_value(response, 'access_token') == response.json()['access_token']


async def test_cookies_are_off_unless_the_setting_turns_them_on(make_app):
    async with TestClient(make_app()) as client:
        await signup(client)
        response = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
        assert response.headers.get_list('set-cookie') == []
        cookie = {'Cookie': f'access_token={response.json()["access_token"]}'}
        assert (await client.get('/auth/me', headers=cookie)).status_code == 401


async def test_cookie_secure_false_drops_the_secure_attribute(make_app):
    async with TestClient(make_app(cookies=True, cookie_secure=False)) as client:
        await signup(client)
        response = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
        assert not any('Secure' in value for value in response.headers.get_list('set-cookie'))


async def test_the_access_token_cookie_authenticates_safe_methods(accounts_client: TestClient):
    _, access, _, _ = await _browser_login(accounts_client)
    response = await accounts_client.get('/auth/me', headers={'Cookie': f'access_token={access}'})
    assert response.status_code == 200 and response.json()['username'] == 'ann'


async def test_an_unsafe_method_with_the_cookie_and_no_csrf_header_is_403(accounts_client: TestClient):
    _, access, _, csrf = await _browser_login(accounts_client)
    cookie = {'Cookie': f'access_token={access}; csrftoken={csrf}'}
    response = await accounts_client.post('/auth/logout', headers=cookie)
    assert response.status_code == 403 and 'CSRF' in response.json()['detail']
    assert (await accounts_client.get('/auth/me', headers=cookie)).status_code == 200  # still logged in


async def test_a_mismatched_csrf_header_is_403(accounts_client: TestClient):
    _, access, _, csrf = await _browser_login(accounts_client)
    for header in (csrf[:-1] + ('A' if csrf[-1] != 'A' else 'B'), '', 'x' * 43):
        response = await accounts_client.patch(
            '/auth/me',
            json={'nickname': 'evil'},
            headers={'Cookie': f'access_token={access}; csrftoken={csrf}', 'X-CSRFToken': header},
        )
        assert response.status_code == 403, header
    assert (await accounts_client.get('/auth/me', headers={'Cookie': f'access_token={access}'})).json()[
        'nickname'
    ] is None


async def test_a_matching_csrf_header_lets_an_unsafe_method_through(accounts_client: TestClient):
    _, access, _, csrf = await _browser_login(accounts_client)
    headers = {'Cookie': f'access_token={access}; csrftoken={csrf}', 'X-CSRFToken': csrf}
    assert (await accounts_client.patch('/auth/me', json={'nickname': 'Nan'}, headers=headers)).status_code == 200


async def test_cookie_jwt_authentication_refuses_an_unsafe_method_without_csrf(accounts_client: TestClient):
    _, access, _, csrf = await _browser_login(accounts_client)
    cookie = f'access_token={access}; csrftoken={csrf}'
    assert (await accounts_client.get('/cookie-only', headers={'Cookie': cookie})).status_code == 200
    assert (await accounts_client.post('/cookie-only', headers={'Cookie': cookie})).status_code == 403
    assert (
        await accounts_client.post('/cookie-only', headers={'Cookie': cookie, 'X-CSRFToken': csrf})
    ).status_code == 200


async def test_a_bearer_header_needs_no_csrf_token(accounts_client: TestClient):
    tokens, _, _, _ = await _browser_login(accounts_client)
    assert (await accounts_client.post('/auth/logout', headers=bearer(tokens))).status_code == 200


async def test_refresh_reads_the_refresh_cookie_with_the_csrf_check(accounts_client: TestClient):
    _, _, refresh, csrf = await _browser_login(accounts_client)
    cookie = {'Cookie': f'refresh_token={refresh}; csrftoken={csrf}'}
    refused = await accounts_client.post('/auth/refresh', headers=cookie)
    assert refused.status_code == 403
    response = await accounts_client.post('/auth/refresh', headers={**cookie, 'X-CSRFToken': csrf})
    assert response.status_code == 200, response.text
    assert cookie_value(response, 'refresh_token') != refresh
    assert cookie_value(response, 'csrftoken') == csrf  # pages that read it keep working
    successor = {'Cookie': f'refresh_token={cookie_value(response, "refresh_token")}; csrftoken={csrf}'}
    used = await accounts_client.post('/auth/refresh', headers={**successor, 'X-CSRFToken': csrf})
    assert used.status_code == 200
    again = await accounts_client.post('/auth/refresh', headers={**cookie, 'X-CSRFToken': csrf})
    assert again.status_code == 401  # the old cookie's token was spent and its successor used: reuse


async def test_a_refresh_driven_by_the_cookie_answers_no_token_in_its_body(accounts_client: TestClient):
    _, _, refresh, csrf = await _browser_login(accounts_client)
    cookie = {'Cookie': f'refresh_token={refresh}; csrftoken={csrf}', 'X-CSRFToken': csrf}
    response = await accounts_client.post('/auth/refresh', headers=cookie)
    assert response.status_code == 200
    assert 'access_token' not in response.json() and 'refresh_token' not in response.json()
    assert response.json()['token_type'] == 'bearer' and cookie_value(response, 'access_token')


async def test_a_login_in_the_default_cookie_mode_answers_the_pair_in_its_body(accounts_client: TestClient):
    body, access, refresh, _ = await _browser_login(accounts_client)
    assert (body['access_token'], body['refresh_token']) == (access, refresh)


async def test_the_cookies_only_mode_answers_no_token_in_any_body(make_app):
    async with TestClient(make_app(cookies='only')) as client:
        await signup(client)
        response = await client.post('/auth/login', json={'username': 'ann', 'password': PASSWORD})
        assert response.status_code == 200 and set(response.json()) == {'token_type', 'expires_in'}
        refresh, csrf = cookie_value(response, 'refresh_token'), cookie_value(response, 'csrftoken')
        refreshed = await client.post('/auth/refresh', json={'refresh_token': refresh}, headers={'X-CSRFToken': csrf})
        assert refreshed.status_code == 200 and 'access_token' not in refreshed.json()
        assert cookie_value(refreshed, 'access_token')


async def test_a_body_token_wins_over_the_refresh_cookie(accounts_client: TestClient):
    tokens, _, refresh, _ = await _browser_login(accounts_client)
    spent = await accounts_client.post('/auth/refresh', json={'refresh_token': refresh})  # spend the cookie's token
    await accounts_client.post(
        '/auth/refresh', json={'refresh_token': spent.json()['refresh_token']}
    )  # and its successor
    assert (
        await accounts_client.post(
            '/auth/refresh', headers={'Cookie': 'refresh_token=junk'}, json={'refresh_token': tokens['refresh_token']}
        )
    ).status_code == 401


async def test_logout_deletes_the_cookies(accounts_client: TestClient):
    _, access, _, csrf = await _browser_login(accounts_client)
    response = await accounts_client.post(
        '/auth/logout', headers={'Cookie': f'access_token={access}; csrftoken={csrf}', 'X-CSRFToken': csrf}
    )
    assert response.status_code == 200
    cookies = set_cookies(response)
    assert set(cookies) == {'access_token', 'refresh_token', 'csrftoken'}
    assert all('Max-Age=0' in value for value in cookies.values())
    assert 'Path=/auth/refresh' in cookies['refresh_token']
    assert (await accounts_client.get('/auth/me', headers={'Cookie': f'access_token={access}'})).status_code == 401


async def test_the_refresh_cookie_path_follows_the_mount_point(store, tmp_path):
    from panther_like import Panther
    from panther_like.accounts import accounts_urls
    from tests.accounts.conftest import settings_module

    settings = settings_module(store[0], store[1], {'cookies': True})
    settings.URLS = {'api/v1/users/': accounts_urls}
    async with TestClient(Panther(configs=settings)) as client:
        await client.post('/api/v1/users/signup', json={'username': 'ann', 'password': PASSWORD})
        response = await client.post('/api/v1/users/login/', json={'username': 'ann', 'password': PASSWORD})
        assert 'Path=/api/v1/users/refresh;' in set_cookies(response)['refresh_token']


async def test_login_works_after_a_logout_from_another_session(accounts_client: TestClient):
    await signup(accounts_client)
    first = await login(accounts_client)
    await accounts_client.post('/auth/logout', headers=bearer(first))
    assert (await accounts_client.get('/auth/me', headers=bearer(await login(accounts_client)))).status_code == 200
