"""API authentication: bearer tokens for systems, the session (with CSRF) for the console's own calls."""

from ninja.security import HttpBearer, django_auth


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        from govcrm.organization.actions import api_token_user

        user = api_token_user(token)
        if user is not None:
            request.user = user
        return user


api_auth = [BearerToken(), django_auth]
