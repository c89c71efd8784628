"""The session store: Django's database sessions, except that a database outage while a session
is saved stays an outage (503 through `outage.server_error`). Django turns any database error of
an update into `UpdateError`, which its middleware reports as 400 "session interrupted": a citizen
would be told their request was bad when the database was only briefly away.

A new session's key is not looked up before it is stored: the key is 32 random characters, and
the INSERT of `create()` (a unique key) already draws another one in the unlikely event of a
clash. That saves a query on every citizen's first portal request.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils.crypto import get_random_string

from .outage import is_unavailable


class SessionStore(DatabaseSessionStore):
    def save(self, must_create: bool = False) -> None:
        try:
            super().save(must_create=must_create)
        except UpdateError as err:
            if is_unavailable(err.__context__):
                raise err.__context__ from None
            raise

    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)
