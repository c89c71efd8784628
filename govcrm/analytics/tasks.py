"""Background jobs of analytics. The refresh is incremental and safe to run twice; when another
process holds the warehouse (a refresh already running), the job skips this round."""

import logging

from django_tasks import task

from .actions import warehouse_refresh
from .warehouse import WarehouseBusy

logger = logging.getLogger(__name__)


@task()
def refresh_warehouse() -> int:
    """Bring the warehouse up to date (the periodic job). Returns the number of cases reloaded."""
    try:
        result = warehouse_refresh()
    except WarehouseBusy:
        logger.info("warehouse busy; refresh skipped this round")
        return 0
    return result.cases
