"""The single role -> permission table of alweb (DESIGN.md "Roles")."""

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    DEVELOPER = "developer"
    ANNOTATION_MANAGER = "annotation_manager"
    REVIEWER = "reviewer"
    ANNOTATOR = "annotator"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Perm(StrEnum):
    """Per-project permissions; `user.has_perm(perm, project)` reads the table."""

    VIEW_PROJECT = "alweb.view_project"  # any member: the project exists for them
    VIEW_DASHBOARD = "alweb.view_dashboard"  # dashboard, items, models, comparisons
    VIEW_PIPELINE = "alweb.view_pipeline"
    EDIT_PIPELINE = "alweb.edit_pipeline"  # pipeline settings, labels, triggers
    VIEW_MEMBERS = "alweb.view_members"
    MANAGE_MEMBERS = "alweb.manage_members"
    DELETE_PROJECT = "alweb.delete_project"
    UPLOAD_ITEMS = "alweb.upload_items"  # upload / import items
    EXPORT = "alweb.export"
    ASSIGN_TASKS = "alweb.assign_tasks"  # assign and release others' tasks
    LABEL = "alweb.label"  # claim, save, submit
    REVIEW = "alweb.review"  # approve, reject
    TRAIN = "alweb.train"  # start training, register base models / weights
    PROMOTE = "alweb.promote"  # promote or roll back a model
    BACKTEST = "alweb.backtest"  # backtest strategies on the project's ground truth


OWN, DEV, MGR, REV, ANN = (
    Role.OWNER,
    Role.DEVELOPER,
    Role.ANNOTATION_MANAGER,
    Role.REVIEWER,
    Role.ANNOTATOR,
)

# fmt: off
ROLE_TABLE: dict[Perm, frozenset[Role]] = {
    #                             owner dev  manager reviewer annotator
    Perm.VIEW_PROJECT:   frozenset({OWN, DEV, MGR,    REV,     ANN}),
    Perm.VIEW_DASHBOARD: frozenset({OWN, DEV, MGR}),
    Perm.VIEW_PIPELINE:  frozenset({OWN, DEV, MGR}),
    Perm.EDIT_PIPELINE:  frozenset({OWN, DEV}),
    Perm.VIEW_MEMBERS:   frozenset({OWN, DEV, MGR}),
    Perm.MANAGE_MEMBERS: frozenset({OWN}),
    Perm.DELETE_PROJECT: frozenset({OWN}),
    Perm.UPLOAD_ITEMS:   frozenset({OWN, DEV, MGR}),
    Perm.EXPORT:         frozenset({OWN, DEV, MGR}),
    Perm.ASSIGN_TASKS:   frozenset({OWN, DEV, MGR}),
    Perm.LABEL:          frozenset({OWN, DEV, MGR,             ANN}),
    Perm.REVIEW:         frozenset({OWN, DEV, MGR,    REV}),
    Perm.TRAIN:          frozenset({OWN, DEV}),
    Perm.PROMOTE:        frozenset({OWN, DEV}),
    Perm.BACKTEST:       frozenset({OWN, DEV, MGR}),
}
# fmt: on


def role_allows(role: Role | str | None, perm: Perm | str) -> bool:
    """True when `role` holds `perm`; unknown roles and perms hold nothing."""
    if role is None:
        return False
    try:
        return Role(role) in ROLE_TABLE[Perm(perm)]
    except (ValueError, KeyError):
        return False


def perms_for(role: Role | str | None) -> frozenset[Perm]:
    return frozenset(p for p in Perm if role_allows(role, p))
