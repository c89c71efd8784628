"""A bench-only site: the application's settings and URLs plus one bare view to compare against."""
