"""Import a folder of images (and zip archives) into a project, with a progress bar."""

import json
import os
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from annotate.models import Project
from annotate.services.imports import IMPORT_AS, coco_import
from annotate.services.uploads import UploadReport, uploads_ingest

SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".zip"}


def _files(root: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, names in os.walk(root):  # symlinked dirs are not followed
        dirnames.sort()
        for name in sorted(names):
            path = Path(dirpath) / name
            if path.suffix.lower() in SUFFIXES and not path.is_symlink():
                found.append(path)
    return found


class Command(BaseCommand):
    help = "Import the images under PATH into project PROJECT_ID (optionally COCO)."

    def add_arguments(self, parser):
        parser.add_argument("project_id", type=int)
        parser.add_argument("path")
        parser.add_argument("--coco", help="COCO JSON with annotations to import")
        parser.add_argument(
            "--as", dest="mode", default="ground_truth", choices=IMPORT_AS
        )

    def handle(self, *args, project_id, path, coco=None, mode="ground_truth", **opts):
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            raise CommandError(f"no project {project_id}")
        root = Path(path)
        if not root.is_dir():
            raise CommandError(f"{path} is not a directory")
        files = _files(root)
        report = UploadReport()
        total = len(files)
        for n, file_path in enumerate(files, 1):
            with open(file_path, "rb") as fh:
                upload = File(fh, name=str(file_path.relative_to(root)))
                uploads_ingest(project=project, files=[upload], report=report)
            self._bar(n, total)
        if total:
            self.stdout.write("")
        for skipped in report.skipped:
            self.stdout.write(f"skipped {skipped['name']}: {skipped['reason']}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(report.created)} items created, {len(report.skipped)} skipped"
            )
        )
        if coco:
            try:
                with open(coco, "rb") as fh:
                    document = json.load(fh)
            except (OSError, ValueError, RecursionError) as exc:
                raise CommandError(f"cannot read {coco}: {exc}") from None
            try:
                result = coco_import(
                    project=project, document=document, as_=mode, actor=None
                )
            except ValidationError as exc:
                for errors in exc.message_dict.values():
                    for error in errors:
                        self.stderr.write(error)
                raise CommandError("COCO import refused; nothing changed") from None
            self.stdout.write(
                self.style.SUCCESS(
                    f"COCO: {result['annotations']} annotations on"
                    f" {result['items']} items"
                )
            )

    def _bar(self, n: int, total: int) -> None:
        width = 30
        done = int(width * n / total) if total else width
        line = f"\r[{'#' * done}{'.' * (width - done)}] {n}/{total}"
        out = self.stdout._out if hasattr(self.stdout, "_out") else sys.stdout
        out.write(line)
        out.flush()
