"""Projects, their members and pipeline settings."""

import logging

from django.contrib.admin.models import DELETION, LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from alweb.auth import forget_roles
from alweb.exceptions import Conflict
from alweb.roles import Role
from annotate import signals
from annotate.models import Membership, Pipeline, Project
from annotate.services.events import event_log

audit = logging.getLogger("alweb.audit")
UNSET = object()  # project_update: "goal not given" (None clears the goal)
MAX_GOAL = 100_000_000


def project_lock(*, project_id: int) -> None:
    """Hold the project's row lock until the transaction ends: the check-then-write
    services of one project (owner count, model version numbers, the best model)
    then run one at a time. Call inside the transaction, before the check.

    SQLite's IMMEDIATE transactions already serialize every write; PostgreSQL
    (READ COMMITTED) would let two of them pass their check at once, breaking the
    invariant or answering IntegrityError. FOR NO KEY UPDATE leaves inserts of
    rows that point at the project (their foreign key check) unblocked.
    """
    Project.objects.select_for_update(no_key=True).filter(pk=project_id).exists()


@transaction.atomic
def project_create(
    *, owner, name: str, labels: list[str], kinds: list[str], description: str = ""
) -> Project:
    """Create a project with default pipeline settings; `owner` becomes its owner.
    Sends project_created in the transaction (receivers add their own rows).

    Raises ValidationError naming the field for bad names, labels or kinds.
    """
    project = Project(
        name=(name or "").strip(),
        labels=labels,
        kinds=kinds,
        description=description,
        created_by=owner,
    )
    project.full_clean()
    project.save()
    Pipeline.objects.create(project=project)
    Membership.objects.create(project=project, user=owner, role=Role.OWNER)
    forget_roles(owner)
    event_log(project_id=project.pk, actor=owner, verb="project_created")
    signals.project_created.send(sender=Project, project=project)
    return project


@transaction.atomic
def project_update(
    *,
    project: Project,
    actor,
    name: str | None = None,
    description: str | None = None,
    labels: list[str] | None = None,
    goal=UNSET,
) -> Project:
    """Change what is given of name, description, labels and goal (None clears
    it), together or not at all; logs project_updated (labels: labels_updated).
    Raises ValidationError naming the field (a label still in use cannot be
    removed; a goal is a whole number from 1 to MAX_GOAL)."""
    from annotate.services.pipeline import project_labels_update

    if goal is not UNSET:
        goal = _goal_clean(goal)
    if labels is not None:
        project = project_labels_update(project=project, actor=actor, labels=labels)
    values = {"name": name, "description": description}
    fields = [f for f, v in values.items() if v is not None]
    if goal is not UNSET:
        values["goal"] = goal
        fields.append("goal")
    for field in fields:
        setattr(project, field, values[field])
    if fields:
        project.full_clean()
        project.save(update_fields=fields)
        event_log(
            project_id=project.pk, actor=actor, verb="project_updated", fields=fields
        )
    return project


def _goal_clean(goal) -> int | None:
    if goal is None:
        return None
    if isinstance(goal, bool) or not isinstance(goal, int):
        raise ValidationError({"goal": "the goal is a whole number of items"})
    if not 1 <= goal <= MAX_GOAL:
        raise ValidationError({"goal": f"the goal lies between 1 and {MAX_GOAL:,}"})
    return goal


@transaction.atomic
def member_add(*, project: Project, actor, user, role: str) -> Membership:
    """Add `user` with `role`. Raises Conflict when they are a member already (the
    role is changed with member_set), ValidationError for an unknown role."""
    if Membership.objects.filter(project=project, user=user).exists():
        raise Conflict("already a member; PATCH the membership to change the role")
    return member_set(project=project, actor=actor, user=user, role=role)


@transaction.atomic
def member_set(*, project: Project, actor, user, role: str) -> Membership:
    """Add `user` to the project with `role`, or change their role.

    Invariant: a project always keeps at least one owner, and nobody changes their
    own role (no self-escalation, no locking oneself out). Raises ValidationError
    for an unknown role, PermissionDenied for a change of one's own role.
    """
    if role not in {r.value for r in Role}:
        raise ValidationError({"role": f"unknown role {role!r}"})
    if actor is not None and user.pk == actor.pk:
        raise PermissionDenied("you cannot change your own role")
    project_lock(project_id=project.pk)  # the owner count below stays true
    membership = Membership.objects.filter(project=project, user=user).first()
    if membership is None:
        membership = Membership.objects.create(project=project, user=user, role=role)
        event_log(
            project_id=project.pk,
            actor=actor,
            verb="member_added",
            user=user.username,
            role=role,
        )
    elif membership.role != role:
        if membership.role == Role.OWNER and _owner_count(project) <= 1:
            raise ValidationError({"role": "a project must keep at least one owner"})
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        event_log(
            project_id=project.pk,
            actor=actor,
            verb="member_role_changed",
            user=user.username,
            old=old,
            role=role,
        )
    forget_roles(user)
    return membership


@transaction.atomic
def member_remove(*, project: Project, actor, user) -> None:
    """Remove `user` from the project; their active tasks are released.

    Raises ValidationError when it would leave the project without an owner.
    """
    project_lock(project_id=project.pk)  # the owner count below stays true
    membership = Membership.objects.filter(project=project, user=user).first()
    if membership is None:
        return
    if membership.role == Role.OWNER and _owner_count(project) <= 1:
        raise ValidationError({"user": "a project must keep at least one owner"})
    from annotate.services.queue import tasks_release_for_user

    tasks_release_for_user(project=project, user=user)
    membership.delete()
    forget_roles(user)
    event_log(
        project_id=project.pk, actor=actor, verb="member_removed", user=user.username
    )


def _owner_count(project: Project) -> int:
    return Membership.objects.filter(project=project, role=Role.OWNER).count()


@transaction.atomic
def project_delete(*, project: Project, actor) -> None:
    """Delete the project with its items, annotations, tasks, runs and events, and
    (once that commits) its stored images and exports; project_deleting lets the
    other apps drop theirs (models_mgmt: weights and run folders).

    The project's own event log goes with it, so the deletion is recorded where
    it outlives the project: the "alweb.audit" logger and the admin's site-wide
    log (LogEntry, "Recent actions").
    """
    from annotate.services.exports import exports_delete_on_commit
    from annotate.services.items import item_files_delete_on_commit

    items = project.items.count()
    signals.project_deleting.send(sender=Project, project=project)
    item_files_delete_on_commit(project=project)
    exports_delete_on_commit(project=project)
    _audit_deletion(project, actor, items)
    project.delete()


def _audit_deletion(project: Project, actor, items: int) -> None:
    who = actor.get_username() if actor is not None and actor.is_authenticated else ""
    audit.info(
        "project %s %r deleted by %s (%d items)",
        project.pk,
        project.name,
        who or "system",
        items,
    )
    if who:
        LogEntry.objects.log_actions(
            user_id=actor.pk,
            queryset=[project],
            action_flag=DELETION,
            change_message=f"deleted with {items} items",
            single_object=True,
        )
