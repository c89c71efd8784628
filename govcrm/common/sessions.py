"""The session store: Django's database sessions, except that a database outage while a session
is saved stays an outage (503 through `outage.server_error`). Django turns any database error of
an update into `UpdateError`, which its middleware reports as 400 "session interrupted": a citizen
would be told their request was bad when the database was only briefly away."""

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

from .outage import is_unavailable


class SessionStore(DatabaseSessionStore):
    def save(self, must_create: bool = False) -> None:
        try:
            super().save(must_create=must_create)
        except UpdateError as err:
            if is_unavailable(err.__context__):
                raise err.__context__ from None
            raise
