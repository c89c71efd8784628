"""Knowledge pages: `console` (staff, under /console/knowledge/) and `portal` (citizens, under /help/)."""

from django.utils.translation import get_language


def page_language() -> str:
    """The article language matching the page's language."""
    return "en" if (get_language() or "").startswith("en") else "zh-hans"
