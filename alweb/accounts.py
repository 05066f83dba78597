"""User accounts (the wiring's own): new accounts, invite links and API tokens.

Project memberships belong to annotate (annotate.services.members calls these);
nothing here knows about projects.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from rest_framework.authtoken.models import Token

INVITE_SALT = "alweb.accounts.invite"


def _invite_max_age() -> int:
    return settings.ALWEB_INVITE_MAX_AGE_SECONDS


@transaction.atomic
def user_create(*, username: str, password: str | None = None):
    """Create an active account named `username`, with `password` or with no
    usable password (an invite sets it later).

    Raises ValidationError({"username": ...}) for a name the User model refuses
    (characters, length) or one taken already, ignoring case ("Alice" and
    "alice" would share the login lock and confuse the members list).
    """
    user_model = get_user_model()
    username = (username or "").strip()
    user = user_model(username=username, is_active=True)
    user.full_clean(exclude=["password"], validate_unique=False)
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "a user with that username exists"})
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # a parallel request took the name first
        raise ValidationError(
            {"username": "a user with that username exists"}
        ) from None
    return user


def password_generate() -> str:
    """A random password of 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


# Invite links ------------------------------------------------------------------


@dataclass(frozen=True)
class Invite:
    token: str
    expires_at: datetime


def _password_stamp(user) -> str:
    """A keyed digest of the stored password hash: it changes whenever the
    password does, so a link dies once used (or renewed)."""
    return salted_hmac(INVITE_SALT, f"{user.pk}:{user.password}").hexdigest()[:24]


def invite_make(*, user) -> Invite:
    """A signed link token for `user` to set their first password. It expires
    after ALWEB_INVITE_MAX_AGE_SECONDS and works once: setting the password (or
    invite_renew) changes the stamp it carries. Writes nothing."""
    signer = signing.TimestampSigner(salt=INVITE_SALT)
    token = signer.sign_object({"u": user.pk, "s": _password_stamp(user)})
    expires = timezone.now() + timedelta(seconds=_invite_max_age())
    return Invite(token=token, expires_at=expires)


def invite_user(*, token: str):
    """The account an invite token is for, or None when the token is forged,
    expired, already used or renewed, or its account is gone or inactive."""
    signer = signing.TimestampSigner(salt=INVITE_SALT)
    try:
        payload = signer.unsign_object(token, max_age=_invite_max_age())
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        return None
    user = get_user_model().objects.filter(pk=payload["u"], is_active=True).first()
    if user is None or user.has_usable_password():
        return None
    if not constant_time_compare(str(payload.get("s", "")), _password_stamp(user)):
        return None
    return user


def invite_pending(*, user) -> bool:
    """True while `user` has never set a password nor logged in."""
    return not user.has_usable_password() and user.last_login is None


@transaction.atomic
def invite_renew(*, user) -> Invite:
    """A new invite for an account that has not accepted one yet; the earlier
    links stop working. Raises ValidationError when the account has a password
    or has logged in (it is theirs now, not the inviter's)."""
    if not invite_pending(user=user):
        raise ValidationError("this account has set its password already")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return invite_make(user=user)


@transaction.atomic
def invite_accept(*, token: str, password: str):
    """Set the first password of the account `token` invites; returns the user.

    The caller has validated `password` (AUTH_PASSWORD_VALIDATORS). The row is
    locked and the token checked again inside the transaction, so two parallel
    uses of one link set one password. Raises ValidationError for a token that
    is no longer good.
    """
    user = invite_user(token=token)
    if user is not None:
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        if user.has_usable_password():
            user = None
    if user is None:
        raise ValidationError("this invite link is not valid any more")
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


# API tokens --------------------------------------------------------------------


def api_token_get(*, user) -> Token | None:
    """The user's DRF token row (its creation time), or None."""
    return Token.objects.filter(user=user).first()


@transaction.atomic
def api_token_create(*, user) -> str:
    """Give `user` a new API token, replacing any old one (which stops working
    at once); returns the key, the only time it is shown."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user).key


@transaction.atomic
def api_token_revoke(*, user) -> bool:
    """Delete the user's API token; True when there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
