"""API routes of the annotate app (API.md); route names are the role-matrix keys."""

from django.urls import path

from annotate.api import io, items, label_errors, mining, projects, work

P = "projects/<int:project_id>/"

urlpatterns = [
    path("projects/", projects.ProjectListApi.as_view(), name="api-project-list"),
    path(P, projects.ProjectDetailApi.as_view(), name="api-project-detail"),
    path(P + "members/", projects.MemberListApi.as_view(), name="api-member-list"),
    path(
        P + "members/<int:user_id>/",
        projects.MemberDetailApi.as_view(),
        name="api-member-detail",
    ),
    path(P + "invites/", projects.InviteCreateApi.as_view(), name="api-invite-create"),
    path(P + "items/", items.ItemListApi.as_view(), name="api-item-list"),
    path(P + "items/tags/", work.ItemsTagApi.as_view(), name="api-items-tag"),
    path(P + "work/", work.WorkApi.as_view(), name="api-work"),
    path(
        P + "items/<int:item_id>/similar/",
        mining.ItemSimilarApi.as_view(),
        name="api-item-similar",
    ),
    path(
        P + "items/similar/", mining.ItemsSimilarApi.as_view(), name="api-items-similar"
    ),
    path(
        P + "items/similar/prioritise/",
        mining.ItemsSimilarPrioritiseApi.as_view(),
        name="api-items-similar-prioritise",
    ),
    path(
        P + "label-errors/",
        label_errors.LabelErrorListApi.as_view(),
        name="api-label-error-list",
    ),
    path(
        P + "label-errors/<int:flag_id>/confirm/",
        label_errors.LabelErrorConfirmApi.as_view(),
        name="api-label-error-confirm",
    ),
    path(
        P + "label-errors/<int:flag_id>/fix/",
        label_errors.LabelErrorFixApi.as_view(),
        name="api-label-error-fix",
    ),
    path(
        P + "label-errors/<int:flag_id>/similar/",
        label_errors.LabelErrorSimilarApi.as_view(),
        name="api-label-error-similar",
    ),
    path("items/<int:item_id>/", items.ItemDetailApi.as_view(), name="api-item-detail"),
    path(
        "items/<int:item_id>/image", items.ItemImageApi.as_view(), name="api-item-image"
    ),
    path(P + "export/", io.ExportApi.as_view(), name="api-export"),
    path(
        P + "export/jobs/<int:job_id>/",
        io.ExportJobApi.as_view(),
        name="api-export-job",
    ),
    path(
        P + "export/jobs/<int:job_id>/download",
        io.ExportDownloadApi.as_view(),
        name="api-export-download",
    ),
    path(P + "import/", io.ImportApi.as_view(), name="api-import"),
]
