"""Knowledge pages: `console` (staff, under /console/knowledge/) and `portal` (citizens, under /help/)."""
