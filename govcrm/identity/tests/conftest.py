"""Identity test helpers: the console's signed-in clients."""

from govcrm.console.tests.conftest import client_for  # noqa: F401 - a fixture, used by name
