"""The baseline of the intake benchmark: Django's full middleware stack and one INSERT, nothing else."""

import json

from django.db import connection, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

TABLE_SQL = {
    "sqlite": "CREATE TABLE IF NOT EXISTS bench_hit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
              "body TEXT NOT NULL)",
    "postgresql": "CREATE TABLE IF NOT EXISTS bench_hit (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL, "
                  "body TEXT NOT NULL)",
}


@csrf_exempt
@require_POST
def insert_one(request):
    payload = json.loads(request.body or b"{}")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_hit (at, body) VALUES (%s, %s)",
                       [timezone.now(), str(payload.get("description", ""))[:200]])
    return JsonResponse({"ok": True}, status=201)
