"""The WeChat API access token, shared by every process through the database.

WeChat issues one access token per AppID, valid for `expires_in` seconds (7,200), and a newly
issued one retires the previous after a few minutes, so every worker must use the same token
rather than fetch its own: it is kept here, one row per AppID.
"""

from __future__ import annotations

from django.db import models


class AccessToken(models.Model):
    appid = models.CharField(max_length=64, unique=True)
    token = models.CharField(max_length=512)
    expires_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.appid} until {self.expires_at:%Y-%m-%d %H:%M}"
