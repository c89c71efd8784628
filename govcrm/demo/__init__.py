"""Demo data: a realistic city and up to millions of cases with consistent histories (see README.md)."""
