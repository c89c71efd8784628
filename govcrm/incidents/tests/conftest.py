from govcrm.console.tests.conftest import client_for  # noqa: F401 - the console's signed-in client fixture
