"""Template context shared by every project page (the tabs, what the role allows)."""

from alweb.auth import project_role
from alweb.roles import Perm, perms_for


def project_context(request, project, active: str) -> dict:
    """Common context: the project, the user's role and what the role allows."""
    role = project_role(request.user, project)
    allowed = perms_for(role) if role else frozenset(Perm)  # superusers: everything
    return {
        "project": project,
        "role": role,
        "can": {perm.name.lower(): True for perm in allowed},
        "active_tab": active,
    }
