"""Auth backend answering `user.has_perm(perm, project)` from alweb.roles."""

from django.conf import settings
from django.contrib.auth.backends import BaseBackend
from django.utils.module_loading import import_string

from alweb.roles import Perm, Role, role_allows

_CACHE_ATTR = "_alweb_project_roles"


def project_role(user, project) -> Role | None:
    """The user's role in `project` (a Project or its id), or None for non-members.

    Cached on the user object for the request; inactive or anonymous users have no
    role anywhere.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    project_id = getattr(project, "pk", project)
    if project_id is None:
        return None
    cache = getattr(user, _CACHE_ATTR, None)
    if cache is None:
        cache = {}
        setattr(user, _CACHE_ATTR, cache)
    if project_id not in cache:
        # The app that owns memberships answers (a dotted path in settings):
        # alweb wires the apps and imports none of them.
        membership_role = import_string(settings.ALWEB_MEMBERSHIP_ROLE)
        role = membership_role(user_id=user.pk, project_id=project_id)
        cache[project_id] = Role(role) if role else None
    return cache[project_id]


def project_role_known(user, project_id, role: str | None) -> None:
    """Record `role` (the user's membership role in project `project_id`, or None
    for no membership, read by the caller in the same query as the project or
    task) in the request's role cache, so that project_role sends no query of
    its own. A role already cached stays."""
    if user is None or not user.is_authenticated or project_id is None:
        return
    cache = getattr(user, _CACHE_ATTR, None)
    if cache is None:
        cache = {}
        setattr(user, _CACHE_ATTR, cache)
    cache.setdefault(project_id, Role(role) if role else None)


def may_create_projects(user) -> bool:
    """Whether the site lets `user` create projects (ALWEB_PROJECT_CREATORS:
    "everyone" signed in and active, or "staff" accounts only)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if settings.ALWEB_PROJECT_CREATORS == "staff":
        return user.is_staff or user.is_superuser
    return True


def forget_roles(user) -> None:
    """Drop the cached roles (after membership changes within one request)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


class ProjectRoleBackend(BaseBackend):
    """Grants alweb's per-project permissions; never authenticates anyone."""

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm, obj=None):
        if obj is None or not isinstance(perm, str) or not perm.startswith("alweb."):
            return False
        try:
            perm = Perm(perm)
        except ValueError:
            return False
        return role_allows(project_role(user_obj, obj), perm)
