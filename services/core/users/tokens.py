"""JWT pairs (SimpleJWT). A refresh token is single-use: rotating or revoking it blacklists it, and
the blacklist row's uniqueness makes that hold even for two concurrent refreshes of one token."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from common.errors import InvalidToken
from users.models import User


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def token_pair_issue(*, user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)  # also records it as outstanding
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def _refresh_token_parse(raw: str) -> RefreshToken:
    """Signature, expiry, type ("refresh", not an access token) and the blacklist."""
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]  # SimpleJWT annotates the encoded str as a Token
    except TokenError as exc:
        raise InvalidToken() from exc


def _refresh_token_use(token: RefreshToken) -> None:
    """Blacklist the token once; the loser of a race (or a replay) gets InvalidToken."""
    outstanding = OutstandingToken.objects.filter(jti=token[api_settings.JTI_CLAIM]).first()
    if outstanding is None:
        raise InvalidToken()
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError as exc:
        raise InvalidToken() from exc


def token_refresh(*, refresh: str) -> TokenPair:
    """Rotation: the old refresh token is used up and a new pair is issued."""
    token = _refresh_token_parse(refresh)
    user = User.objects.filter(pk=token.get(api_settings.USER_ID_CLAIM), is_active=True).first()
    if user is None:
        raise InvalidToken()
    with transaction.atomic():
        _refresh_token_use(token)
        return token_pair_issue(user=user)


def token_revoke(*, refresh: str) -> None:
    """Logout: the refresh token can no longer be used (access tokens expire on their own)."""
    _refresh_token_use(_refresh_token_parse(refresh))
