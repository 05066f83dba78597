"""API: projects and members (API.md "Projects and members"; the pipeline
resource spans both apps: models_mgmt.api.pipeline)."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import json_body, project_for
from alweb.auth import may_create_projects
from alweb.roles import Perm
from alweb.schema import CONFLICT, page_of
from annotate import selectors
from annotate.api.outputs import InviteSerializer, MemberSerializer, ProjectSerializer
from annotate.api.serializers import (
    MemberCreateSerializer,
    MemberInviteSerializer,
    MemberUpdateSerializer,
    ProjectWriteSerializer,
)
from annotate.services import members as member_services
from annotate.services import projects as project_services


class ProjectListApi(APIView):
    @extend_schema(
        operation_id="projects_list",
        summary="Projects the caller is a member of",
        parameters=[OpenApiParameter("page", int)],
        responses={200: page_of(ProjectSerializer)},
    )
    def get(self, request):
        paginator = PageNumberPagination()
        projects = selectors.project_list_for_user(user=request.user)
        page = paginator.paginate_queryset(projects, request, view=self)
        data = ProjectSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="projects_create",
        summary="Create a project; the caller becomes its owner",
        description="403 when the site lets only staff accounts create projects "
        "(ALWEB_PROJECT_CREATORS=staff).",
        request=ProjectWriteSerializer,
        responses={201: ProjectSerializer},
    )
    def post(self, request):
        if not may_create_projects(request.user):
            raise PermissionDenied("this site lets only staff accounts create projects")
        serializer = ProjectWriteSerializer(data=json_body(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = project_services.project_create(
            owner=request.user,
            name=data["name"],
            labels=data["labels"],
            kinds=data["kinds"],
            description=data.get("description", ""),
        )
        body = ProjectSerializer(project, context={"request": request}).data
        return Response(body, status=201)


class ProjectDetailApi(APIView):
    @extend_schema(
        operation_id="projects_get",
        summary="One project",
        responses={200: ProjectSerializer},
    )
    def get(self, request, project_id):
        project = project_for(request, project_id)
        return Response(ProjectSerializer(project, context={"request": request}).data)

    @extend_schema(
        operation_id="projects_update",
        summary="Change name, description or labels (edit pipeline permission)",
        request=ProjectWriteSerializer(partial=True),
        responses={200: ProjectSerializer},
    )
    def patch(self, request, project_id):
        project = project_for(request, project_id, Perm.EDIT_PIPELINE)
        serializer = ProjectWriteSerializer(data=json_body(request), partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = project_services.project_update(
            project=project,
            actor=request.user,
            name=data.get("name"),
            description=data.get("description"),
            labels=data.get("labels"),
        )
        return Response(ProjectSerializer(project, context={"request": request}).data)

    @extend_schema(
        operation_id="projects_delete",
        summary="Delete the project (owner only)",
        responses={204: None},
    )
    def delete(self, request, project_id):
        project = project_for(request, project_id, Perm.DELETE_PROJECT)
        project_services.project_delete(project=project, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListApi(APIView):
    @extend_schema(
        operation_id="members_list",
        summary="Members and their roles",
        parameters=[OpenApiParameter("page", int)],
        responses={200: page_of(MemberSerializer)},
    )
    def get(self, request, project_id):
        project = project_for(request, project_id, Perm.VIEW_MEMBERS)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.member_list(project=project), request, view=self
        )
        return paginator.get_paginated_response(MemberSerializer(page, many=True).data)

    @extend_schema(
        operation_id="members_add",
        summary="Add a member (409 if already one)",
        request=MemberCreateSerializer,
        responses={201: MemberSerializer, 409: CONFLICT},
    )
    def post(self, request, project_id):
        project = project_for(request, project_id, Perm.MANAGE_MEMBERS)
        serializer = MemberCreateSerializer(data=json_body(request))
        serializer.is_valid(raise_exception=True)
        membership = project_services.member_add(
            project=project,
            actor=request.user,
            user=serializer.validated_data["username"],
            role=serializer.validated_data["role"],
        )
        return Response(MemberSerializer(membership).data, status=201)


class MemberDetailApi(APIView):
    @extend_schema(
        operation_id="members_update",
        summary="Change a member's role (never one's own)",
        request=MemberUpdateSerializer,
        responses={200: MemberSerializer},
    )
    def patch(self, request, project_id, user_id):
        project = project_for(request, project_id, Perm.MANAGE_MEMBERS)
        membership = selectors.member_get(project=project, user_id=user_id)
        serializer = MemberUpdateSerializer(data=json_body(request))
        serializer.is_valid(raise_exception=True)
        membership = project_services.member_set(
            project=project,
            actor=request.user,
            user=membership.user,
            role=serializer.validated_data["role"],
        )
        return Response(MemberSerializer(membership).data)

    @extend_schema(
        operation_id="members_remove",
        summary="Remove a member",
        responses={204: None},
    )
    def delete(self, request, project_id, user_id):
        project = project_for(request, project_id, Perm.MANAGE_MEMBERS)
        membership = selectors.member_get(project=project, user_id=user_id)
        project_services.member_remove(
            project=project, actor=request.user, user=membership.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class InviteCreateApi(APIView):
    @extend_schema(
        operation_id="invites_create",
        summary="Create an account that joins the project, with an invite link",
        description="The link is single-use and expires; the account sets its "
        "own password there. 400 when the username is taken or malformed.",
        request=MemberInviteSerializer,
        responses={201: InviteSerializer},
    )
    def post(self, request, project_id):
        project = project_for(request, project_id, Perm.MANAGE_MEMBERS)
        serializer = MemberInviteSerializer(data=json_body(request))
        serializer.is_valid(raise_exception=True)
        made = member_services.member_account_create(
            project=project,
            actor=request.user,
            username=serializer.validated_data["username"],
            role=serializer.validated_data["role"],
            access=member_services.ACCESS_INVITE,
        )
        user = made.membership.user
        body = {
            "user_id": user.pk,
            "username": user.username,
            "role": made.membership.role,
            "invite_url": request.build_absolute_uri(
                reverse("invite-accept", args=[made.invite.token])
            ),
            "expires_at": made.invite.expires_at,
        }
        response = Response(InviteSerializer(body).data, status=201)
        response["Cache-Control"] = "no-store"
        return response
