"""The app makes no outbound network connection: loopback only."""

import socket

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotate.models import Item, Project


def test_the_guard_itself_blocks_outbound_connections(no_network):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(AssertionError, match="outbound"):
            sock.connect(("203.0.113.7", 80))
    finally:
        sock.close()


@pytest.mark.django_db
def test_demo_and_every_page_work_without_network(client, no_network):
    call_command("demo", items=12, approved=6)
    project = Project.objects.get()
    item = Item.objects.filter(project=project).first()
    client.login(username="owner", password="alweb-demo")
    urls = [
        reverse("annotate:project-list"),
        reverse("annotate:project-detail", args=[project.pk]),
        reverse("annotate:project-items", args=[project.pk]),
        reverse("annotate:project-settings", args=[project.pk]),
        reverse("annotate:project-members", args=[project.pk]),
        reverse("models_mgmt:models", args=[project.pk]),
        reverse("annotate:item-image", args=[item.pk]),
        "/api/schema/",
        "/api/docs/",
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
