"""Every HTML form POST, for every role: the code from the role table, and the
database proves it: an allowed POST changes what it should, a refused one
changes nothing at all. Non-members get 404, anonymous users the login page.
"""

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.urls import reverse

from alweb.roles import ROLE_TABLE, Perm, Role
from tests.roles_posts.accounts import (
    AccountCreate,
    AccountInvite,
    Reinvite,
    TokenCreate,
    TokenRevoke,
)
from tests.roles_posts.actions import (
    BacktestStart,
    BulkAssign,
    BulkSkip,
    Claim,
    CreateProject,
    Ctx,
    DataImport,
    LabelsEdit,
    MemberAdd,
    MemberChange,
    MemberRemove,
    PipelineEdit,
    Promote,
    RegisterBase,
    ReleaseClaim,
    Reopen,
    RollBack,
    RunAction,
    TrainNow,
    Upload,
)
from tests.roles_posts.label_errors import LabelErrorAnswer
from tests.roles_posts.mining import SimilarSend
from tests.roles_posts.segmenter import SegmenterDelete, SegmenterUpload
from tests.roles_posts.similar_mistakes import SimilarMistakes
from tests.roles_posts.thresholds import ThresholdsEdit
from tests.roles_posts.work import BulkTag, GoalEdit

# route -> (permission, or None for any signed-in user; its actions)
FORM_POSTS = {
    "annotate:project-list": (None, {"create": CreateProject()}),
    "annotate:project-upload": (Perm.UPLOAD_ITEMS, {"upload": Upload()}),
    "annotate:project-data": (Perm.UPLOAD_ITEMS, {"import": DataImport()}),
    "annotate:project-members": (
        Perm.MANAGE_MEMBERS,
        {
            "add": MemberAdd(),
            "change": MemberChange(),
            "remove": MemberRemove(),
            "create account": AccountCreate(),
            "invite": AccountInvite(),
            "reinvite": Reinvite(),
        },
    ),
    # Any signed-in user's own token (the outsider's too); anonymous: login page.
    "account-token": (None, {"create": TokenCreate(), "revoke": TokenRevoke()}),
    "models_mgmt:project-settings": (
        Perm.EDIT_PIPELINE,
        {
            "pipeline": PipelineEdit(),
            "labels": LabelsEdit(),
            "goal": GoalEdit(),
            "thresholds": ThresholdsEdit(),
        },
    ),
    "models_mgmt:train": (Perm.TRAIN, {"train": TrainNow()}),
    "models_mgmt:promote": (Perm.PROMOTE, {"promote": Promote()}),
    "models_mgmt:roll-back": (Perm.PROMOTE, {"roll back": RollBack()}),
    "annotate:label": (
        Perm.LABEL,
        {"claim": Claim("annotate:label", "label", "unlabeled")},
    ),
    "annotate:review": (
        Perm.REVIEW,
        {"claim": Claim("annotate:review", "review", "review")},
    ),
    "annotate:task-release": (Perm.ASSIGN_TASKS, {"release": ReleaseClaim()}),
    "annotate:project-items-bulk": (
        Perm.ASSIGN_TASKS,
        {"skip": BulkSkip(), "assign": BulkAssign(), "tag": BulkTag()},
    ),
    "annotate:project-item-reopen": (Perm.ASSIGN_TASKS, {"reopen": Reopen()}),
    "annotate:project-items-similar-send": (
        Perm.ASSIGN_TASKS,
        {"send": SimilarSend()},
    ),
    "annotate:label-error-confirm": (
        Perm.REVIEW,
        {"confirm": LabelErrorAnswer("confirm")},
    ),
    "annotate:label-error-fix": (Perm.REVIEW, {"fix": LabelErrorAnswer("fix")}),
    "annotate:label-error-similar": (Perm.REVIEW, {"similar": SimilarMistakes()}),
    "models_mgmt:backtests": (Perm.BACKTEST, {"start": BacktestStart()}),
    "models_mgmt:register-base": (Perm.TRAIN, {"upload": RegisterBase()}),
    "models_mgmt:segmenter": (
        Perm.TRAIN,
        {"upload": SegmenterUpload(), "delete": SegmenterDelete()},
    ),
    "models_mgmt:run-cancel": (
        Perm.EXPORT,
        {"cancel": RunAction("models_mgmt:run-cancel", "queued")},
    ),
    "models_mgmt:run-retry": (
        Perm.EXPORT,
        {"retry": RunAction("models_mgmt:run-retry", "failed")},
    ),
}
CASES = [(route, name) for route, (_, acts) in FORM_POSTS.items() for name in acts]


def snapshot() -> dict:
    """Every row of alweb's own apps and of django-q2 (queued work, schedules).

    Users and sessions are left out: logging in updates last_login.
    """
    base = str(django_settings.BASE_DIR)
    labels = {
        c.label
        for c in apps.get_app_configs()
        if str(c.path).startswith(base) or c.label == "django_q"
    }
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.app_label in labels
    }


@pytest.fixture
def ctx(project_roles, settings):
    """The project with train items, two finished versions, the fast backend."""
    from annotate.demo_data import synthetic_image
    from annotate.services.annotations import annotations_replace, shapes_validate
    from annotate.services.labeling import items_make_ground_truth
    from models_mgmt.models import ModelStatus, ModelVersion
    from models_mgmt.services import backend as backend_service
    from tests.factories import make_items

    settings.ALWEB_ML_BACKEND = "tests.models_mgmt.fake_backend"
    backend_service.get_backend.cache_clear()
    project, users, outsider = project_roles
    owner = users[Role.OWNER]
    from annotate.services.pipeline import pipeline_update

    # Half train, a quarter each val and test: enough of each for a backtest.
    pipeline_update(
        project=project,
        values={"split_train": 0.5, "split_val": 0.25, "split_test": 0.25},
    )
    items = make_items(project, 6)
    for item in items:
        shapes = shapes_validate(item=item, shapes=synthetic_image(1, 96, 72).shapes)
        annotations_replace(item=item, shapes=shapes, author=owner)
    items_make_ground_truth(project=project, item_ids=[i.pk for i in items])
    assert project.items.filter(split="train").exists()
    versions = []
    for number in (1, 2):
        version = ModelVersion.objects.create(
            project=project,
            number=number,
            name=f"v{number}",
            status=ModelStatus.DONE,
            architecture="yolov8n.yaml",
            class_names=list(project.labels),
        )
        version.weights.save(f"v{number}.pt", ContentFile(b"fake weights"))
        versions.append(version)
    yield Ctx(project, users, outsider, tuple(versions))
    backend_service.get_backend.cache_clear()


def _attempt(client, ctx, action, n, capture):
    state = action.setup(ctx, n)
    before = snapshot()
    with capture(execute=True):  # run on-commit work (training, scoring) inline
        response = client.post(action.url(ctx, state), action.data(ctx, state))
    return state, before, response


@pytest.mark.django_db
@pytest.mark.parametrize("route,name", CASES)
def test_every_form_post_answers_by_role_and_changes_only_what_it_may(
    client, ctx, route, name, django_capture_on_commit_callbacks
):
    perm, actions = FORM_POSTS[route]
    action = actions[name]
    n = 0
    for role, user in ctx.users.items():
        n += 1
        client.force_login(user)
        state, before, response = _attempt(
            client, ctx, action, n, django_capture_on_commit_callbacks
        )
        allowed = perm is None or role in ROLE_TABLE[perm]
        code = response.status_code
        if allowed:
            assert code == action.ok, (route, name, role, code)
            assert action.happened(ctx, state, user), (route, name, role)
        else:
            assert code == 403, (route, name, role, code)
            assert snapshot() == before, (route, name, role, "changed something")

    for who in ("outsider", "anonymous"):
        n += 1
        if who == "outsider":
            client.force_login(ctx.outsider)
        else:
            client.logout()
        state, before, response = _attempt(
            client, ctx, action, n, django_capture_on_commit_callbacks
        )
        if who == "outsider" and perm is None:  # anyone may create a project
            assert response.status_code == action.ok
            assert action.happened(ctx, state, ctx.outsider)
            continue
        if who == "outsider":
            assert response.status_code == 404, (route, name, who)
        else:
            assert response.status_code == 302, (route, name, who)
            assert response["Location"].startswith(reverse("login"))
        assert snapshot() == before, (route, name, who, "changed something")


@pytest.mark.django_db
def test_a_page_that_accepts_post_has_a_row_here(client, project_roles):
    """A GET page that starts to accept POST must join FORM_POSTS above."""
    from tests.factories import make_items
    from tests.test_roles_matrix import HTML_ROUTES, _url

    project, users, _ = project_roles
    (item,) = make_items(project, 1)
    client.force_login(users[Role.OWNER])
    for name in sorted(set(HTML_ROUTES) - set(FORM_POSTS)):
        code = client.post(_url(name, project, item)).status_code
        assert code == 405, f"{name} accepts POST ({code}) but has no FORM_POSTS row"
