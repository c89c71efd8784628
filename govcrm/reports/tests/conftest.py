import pytest


@pytest.fixture(autouse=True)
def warehouse_file(settings, tmp_path):
    """Each test has its own warehouse file."""
    settings.GOVCRM_WAREHOUSE = tmp_path / "warehouse" / "test.duckdb"
    return settings.GOVCRM_WAREHOUSE
