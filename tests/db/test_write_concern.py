"""Writes that must survive a failover (revocations, login sessions, the change feed) wait for a majority.

nx-27017 is a single standalone server, which has no majority to wait for:
there the same writes use the server's default, and still work. What a
replica set does with ``majority`` is MongoDB's own promise; the check here
is that the framework asks for it whenever the server could be one.
"""

from __future__ import annotations

from panther_like.db.mongo import MongoDatabase
from panther_like.login_state.change_feed import CHANGES_COLLECTION, SESSION, DatabaseChangeFeed
from panther_like.login_state.revocation import REVOCATION_COLLECTION, DatabaseRevocationStore
from panther_like.login_state.session_registry import SESSIONS_COLLECTION, SessionRegistry
from tests.servers import fresh_database_url


async def test_a_durable_write_asks_for_a_majority_until_the_server_is_known_to_be_standalone(mongodb_url):
    database = MongoDatabase(fresh_database_url(mongodb_url))
    durable = database.collection('rows', durable=True)
    before = durable.write_concern
    await database.ping()
    after = durable.write_concern
    await durable.insert_one({'_id': 'a'})
    assert before.document == {'w': 'majority'}
    assert after is None
    assert await durable.find_one({'_id': 'a'}) == {'_id': 'a'}
    await database.close()


async def test_ordinary_collections_keep_the_servers_default_write_concern(mongodb_url):
    database = MongoDatabase(fresh_database_url(mongodb_url))
    assert database.collection('User').write_concern is None
    await database.close()


class RecordingDatabase(MongoDatabase):
    """The real MongoDB backend, noting which collections are asked for as durable (a spy, not a fake)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.durable_names: set[str] = set()

    def collection(self, name: str, *, durable: bool = False):
        if durable:
            self.durable_names.add(name)
        return super().collection(name, durable=durable)


async def test_revocations_login_sessions_and_the_change_feed_are_written_durably(mongodb_url):
    database = RecordingDatabase(fresh_database_url(mongodb_url))
    await DatabaseRevocationStore(database).revoke('sid:x', until=2**40)
    sessions = SessionRegistry(database)
    await sessions.start('sid-1', 'user-1', expires_at=2**40, user_agent=None, client=None)
    await sessions.end('sid-1')
    await DatabaseChangeFeed(database).publish(SESSION, 'sid-1')
    assert database.durable_names == {REVOCATION_COLLECTION, SESSIONS_COLLECTION, CHANGES_COLLECTION}
    await database.close()
