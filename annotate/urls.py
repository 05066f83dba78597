"""HTML routes of the annotate app."""

from django.urls import path

from annotate import views

app_name = "annotate"

urlpatterns = [
    path("projects/", views.project_list, name="project-list"),
    path("projects/<int:project_id>/", views.project_detail, name="project-detail"),
    path("projects/<int:project_id>/items/", views.project_items, name="project-items"),
    path(
        "projects/<int:project_id>/settings/",
        views.project_settings,
        name="project-settings",
    ),
    path(
        "projects/<int:project_id>/members/",
        views.project_members,
        name="project-members",
    ),
    path("items/<int:item_id>/image", views.item_image, name="item-image"),
    path(
        "items/<int:item_id>/thumbnail",
        views.item_image,
        {"variant": "thumbnail"},
        name="item-thumbnail",
    ),
]
