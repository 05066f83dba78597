"""API: projects and members (API.md "Projects and members"; the pipeline
resource spans both apps: models_mgmt.api.pipeline)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import project_for
from alweb.auth import project_role
from alweb.exceptions import Conflict
from alweb.roles import Perm
from annotate import selectors
from annotate.api.serializers import (
    MemberCreateSerializer,
    MemberUpdateSerializer,
    ProjectWriteSerializer,
    member_as_dict,
    project_as_dict,
)
from annotate.models import Membership, Project
from annotate.services import pipeline as pipeline_services
from annotate.services import projects as project_services
from annotate.services.events import event_log

OBJ = OpenApiTypes.OBJECT
BIN = OpenApiTypes.BINARY


@transaction.atomic
def _project_details_update(*, project: Project, actor, values: dict) -> Project:
    # TODO(lead): move into annotate/services/projects.py as project_update.
    fields = [f for f in ("name", "description") if f in values]
    for f in fields:
        setattr(project, f, values[f])
    if fields:
        project.full_clean()
        project.save(update_fields=fields)
        event_log(
            project_id=project.pk, actor=actor, verb="project_updated", fields=fields
        )
    return project


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationError({"non_field_errors": "expected a JSON object"})
    return request.data


class ProjectListApi(APIView):
    @extend_schema(
        operation_id="projects_list",
        summary="Projects the caller is a member of",
        responses={200: OBJ},
    )
    def get(self, request):
        paginator = PageNumberPagination()
        projects = selectors.project_list_for_user(user=request.user)
        page = paginator.paginate_queryset(projects, request, view=self)
        return paginator.get_paginated_response(
            [project_as_dict(p, project_role(request.user, p)) for p in page]
        )

    @extend_schema(
        summary="Create a project; the caller becomes its owner",
        request=ProjectWriteSerializer,
        responses={201: OBJ, 400: OpenApiResponse(description="bad field")},
    )
    def post(self, request):
        serializer = ProjectWriteSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = project_services.project_create(
            owner=request.user,
            name=data["name"],
            labels=data["labels"],
            kinds=data["kinds"],
            description=data.get("description", ""),
        )
        return Response(project_as_dict(project, "owner"), status=201)


class ProjectDetailApi(APIView):
    @extend_schema(summary="One project", responses={200: OBJ})
    def get(self, request, project_id):
        project = project_for(request, project_id)
        return Response(project_as_dict(project, project_role(request.user, project)))

    @extend_schema(
        summary="Change name, description or labels (edit pipeline permission)",
        request=ProjectWriteSerializer,
        responses={200: OBJ},
    )
    def patch(self, request, project_id):
        project = project_for(request, project_id, Perm.EDIT_PIPELINE)
        serializer = ProjectWriteSerializer(data=_body(request), partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            if "labels" in data:
                project = pipeline_services.project_labels_update(
                    project=project, actor=request.user, labels=data["labels"]
                )
            project = _project_details_update(
                project=project, actor=request.user, values=data
            )
        return Response(project_as_dict(project, project_role(request.user, project)))

    @extend_schema(summary="Delete the project (owner only)", responses={204: None})
    def delete(self, request, project_id):
        project = project_for(request, project_id, Perm.DELETE_PROJECT)
        project_services.project_delete(project=project, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListApi(APIView):
    @extend_schema(
        operation_id="members_list",
        summary="Members and their roles",
        responses={200: OBJ},
    )
    def get(self, request, project_id):
        project = project_for(request, project_id, Perm.VIEW_MEMBERS)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.member_list(project=project), request, view=self
        )
        return paginator.get_paginated_response([member_as_dict(m) for m in page])

    @extend_schema(
        summary="Add a member (409 if already one)",
        request=MemberCreateSerializer,
        responses={201: OBJ},
    )
    def post(self, request, project_id):
        project = project_for(request, project_id, Perm.MANAGE_MEMBERS)
        serializer = MemberCreateSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        user = (
            get_user_model()
            .objects.filter(
                username=serializer.validated_data["username"], is_active=True
            )
            .first()
        )
        if user is None:
            raise ValidationError({"username": "no such user"})
        if Membership.objects.filter(project=project, user=user).exists():
            raise Conflict("already a member; PATCH the membership to change the role")
        membership = project_services.member_set(
            project=project,
            actor=request.user,
            user=user,
            role=serializer.validated_data["role"],
        )
        return Response(member_as_dict(membership), status=201)


def _membership(project, user_id) -> Membership:
    try:
        return Membership.objects.select_related("user").get(
            project=project, user_id=int(user_id)
        )
    except (Membership.DoesNotExist, ValueError, OverflowError):
        raise Http404("no such member") from None


class MemberDetailApi(APIView):
    @extend_schema(
        summary="Change a member's role (never one's own)",
        request=MemberUpdateSerializer,
        responses={200: OBJ},
    )
    def patch(self, request, project_id, user_id):
        project = project_for(request, project_id, Perm.MANAGE_MEMBERS)
        membership = _membership(project, user_id)
        serializer = MemberUpdateSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        membership = project_services.member_set(
            project=project,
            actor=request.user,
            user=membership.user,
            role=serializer.validated_data["role"],
        )
        return Response(member_as_dict(membership))

    @extend_schema(summary="Remove a member", responses={204: None})
    def delete(self, request, project_id, user_id):
        project = project_for(request, project_id, Perm.MANAGE_MEMBERS)
        membership = _membership(project, user_id)
        project_services.member_remove(
            project=project, actor=request.user, user=membership.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
