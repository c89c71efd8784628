"""The console's views, one module per concept: sign-in, dashboard and queues, cases, intake, search.

Each view parses input, calls one action or query, and renders; see `console.access` for who
may call them.
"""
