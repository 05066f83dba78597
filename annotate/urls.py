"""HTML routes of the annotate app."""

from django.urls import path

from annotate import (
    views,
    views_data,
    views_events,
    views_items,
    views_label,
    views_label_errors,
    views_members,
    views_mining,
    views_upload,
    views_work,
)

app_name = "annotate"

urlpatterns = [
    path("projects/", views.project_list, name="project-list"),
    path("projects/<int:project_id>/", views.project_detail, name="project-detail"),
    path(
        "projects/<int:project_id>/items/",
        views_items.project_items,
        name="project-items",
    ),
    path(
        "projects/<int:project_id>/items/bulk/",
        views_items.items_bulk,
        name="project-items-bulk",
    ),
    path(
        "projects/<int:project_id>/map/",
        views_mining.embedding_map,
        name="project-map",
    ),
    path(
        "projects/<int:project_id>/items/similar/",
        views_mining.items_similar,
        name="project-items-similar",
    ),
    path(
        "projects/<int:project_id>/items/similar/send/",
        views_mining.items_similar_send,
        name="project-items-similar-send",
    ),
    path(
        "projects/<int:project_id>/items/<int:item_id>/",
        views_items.item_detail,
        name="project-item",
    ),
    path(
        "projects/<int:project_id>/items/<int:item_id>/reopen/",
        views_items.item_reopen,
        name="project-item-reopen",
    ),
    path(
        "projects/<int:project_id>/work/", views_work.project_work, name="project-work"
    ),
    path(
        "projects/<int:project_id>/upload/",
        views_upload.project_upload,
        name="project-upload",
    ),
    path(
        "projects/<int:project_id>/data/", views_data.project_data, name="project-data"
    ),
    path(
        "projects/<int:project_id>/members/",
        views_members.project_members,
        name="project-members",
    ),
    path(
        "projects/<int:project_id>/events/",
        views_events.project_events,
        name="project-events",
    ),
    path("projects/<int:project_id>/label/", views_label.label_page, name="label"),
    path("projects/<int:project_id>/review/", views_label.review_page, name="review"),
    path(
        "projects/<int:project_id>/review/label-errors/",
        views_label_errors.label_errors_page,
        name="label-errors",
    ),
    path(
        "projects/<int:project_id>/review/label-errors/<int:flag_id>/confirm/",
        views_label_errors.label_error_confirm_view,
        name="label-error-confirm",
    ),
    path(
        "projects/<int:project_id>/review/label-errors/<int:flag_id>/fix/",
        views_label_errors.label_error_fix_view,
        name="label-error-fix",
    ),
    path(
        "projects/<int:project_id>/review/label-errors/<int:flag_id>/similar/",
        views_label_errors.label_error_similar_view,
        name="label-error-similar",
    ),
    path(
        "projects/<int:project_id>/review/label-errors/<int:flag_id>/image",
        views_label_errors.label_error_image,
        name="label-error-image",
    ),
    path(
        "projects/<int:project_id>/tasks/<int:task_id>/release/",
        views_label.task_release,
        name="task-release",
    ),
    path("items/<int:item_id>/image", views.item_image, name="item-image"),
    path(
        "items/<int:item_id>/thumbnail",
        views.item_image,
        {"variant": "thumbnail"},
        name="item-thumbnail",
    ),
]
