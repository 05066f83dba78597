"""New accounts made from a project's members page: created with a password shown
once or with an invite link, and joined to the project in one transaction."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from alweb import accounts
from alweb.roles import Role
from annotate.models import Membership, Project
from annotate.services.events import event_log
from annotate.services.projects import member_add

ACCESS_PASSWORD = "password"
ACCESS_INVITE = "invite"


@dataclass(frozen=True)
class NewAccount:
    """What the inviter sees once: the password or the invite (never stored)."""

    membership: Membership
    password: str | None = None
    invite: accounts.Invite | None = None


@transaction.atomic
def member_account_create(
    *, project: Project, actor, username: str, role: str, access: str
) -> NewAccount:
    """Create the account `username` and make it a member with `role`.

    access "password": a generated password, returned once; "invite": no usable
    password, and a signed single-use invite for the user to set one. Either all
    of it happens or nothing. Logs member_added and account_created. Raises
    ValidationError naming the field (username taken or malformed, unknown role
    or access).
    """
    if role not in {r.value for r in Role}:
        raise ValidationError({"role": f"unknown role {role!r}"})
    if access not in (ACCESS_PASSWORD, ACCESS_INVITE):
        raise ValidationError({"access": "choose a password or an invite link"})
    password = accounts.password_generate() if access == ACCESS_PASSWORD else None
    user = accounts.user_create(username=username, password=password)
    membership = member_add(project=project, actor=actor, user=user, role=role)
    event_log(
        project_id=project.pk,
        actor=actor,
        verb="account_created",
        user=user.username,
        access=access,
    )
    invite = accounts.invite_make(user=user) if password is None else None
    return NewAccount(membership=membership, password=password, invite=invite)


@transaction.atomic
def member_invite_renew(*, project: Project, actor, user) -> accounts.Invite:
    """A fresh invite link for a member who has not accepted theirs; earlier
    links stop working. Refused (PermissionDenied) when the account belongs to
    another project too (only its own projects' owners could renew it then) or
    is not a member here; ValidationError when it has set its password."""
    projects = set(Membership.objects.filter(user=user).values_list("project_id"))
    if projects != {(project.pk,)}:
        raise PermissionDenied("the account is a member of other projects too")
    invite = accounts.invite_renew(user=user)
    event_log(
        project_id=project.pk, actor=actor, verb="invite_renewed", user=user.username
    )
    return invite
