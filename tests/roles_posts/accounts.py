"""Form POST actions of the account pages for tests/test_roles_matrix_posts.py:
new accounts and invites on the members page, and the API token page."""

from django.urls import reverse
from rest_framework.authtoken.models import Token

from alweb.roles import Role


class AccountCreate:
    """action=create: a new account with a generated password (or an invite)."""

    route = "annotate:project-members"
    ok = 200  # the page shows the password or link once: no redirect
    access = "password"

    def setup(self, ctx, n):
        return f"new{self.access}{n}"

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk])

    def data(self, ctx, state):
        return {
            "action": "create",
            "new_username": state,
            "new_role": "reviewer",
            "access": self.access,
        }

    def happened(self, ctx, state, user):
        member = ctx.project.memberships.filter(user__username=state).first()
        if member is None or member.role != Role.REVIEWER:
            return False
        return member.user.has_usable_password() == (self.access == "password")


class AccountInvite(AccountCreate):
    access = "invite"


class Reinvite:
    """action=reinvite: a new link for a member who has not set a password."""

    route = "annotate:project-members"
    ok = 200

    def setup(self, ctx, n):
        from annotate.services.members import member_account_create

        owner = ctx.users[Role.OWNER]
        made = member_account_create(
            project=ctx.project,
            actor=owner,
            username=f"pending{n}",
            role="annotator",
            access="invite",
        )
        return made.membership.user, made.membership.user.password

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk])

    def data(self, ctx, state):
        return {"action": "reinvite", "user_id": state[0].pk}

    def happened(self, ctx, state, user):
        state[0].refresh_from_db()
        return state[0].password != state[1]  # the old links stop working


class TokenCreate:
    """The API token page: a new key, the password asked again."""

    route = "account-token"
    ok = 200  # the key is shown once on the page

    def setup(self, ctx, n):
        return None

    def url(self, ctx, state):
        return reverse(self.route)

    def data(self, ctx, state):
        return {"action": "create", "password": "pw-for-tests-1"}

    def happened(self, ctx, state, user):
        return Token.objects.filter(user=user).exists()


class TokenRevoke(TokenCreate):
    ok = 302

    def setup(self, ctx, n):
        for user in [*ctx.users.values(), ctx.outsider]:
            Token.objects.get_or_create(user=user)

    def data(self, ctx, state):
        return {"action": "revoke"}

    def happened(self, ctx, state, user):
        return not Token.objects.filter(user=user).exists()
