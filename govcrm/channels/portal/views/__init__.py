"""The portal's pages: `submit` (a new request) and `track` (a case by number and query code)."""
