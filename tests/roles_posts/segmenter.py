"""Form POST actions of the click-to-segment weights card on the Models page."""

from django.urls import reverse


class SegmenterUpload:
    route = "models_mgmt:segmenter"
    ok = 302

    def setup(self, ctx, n):
        return f"n{n}_mobile_sam.pt"

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk])

    def data(self, ctx, state):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return {"file": SimpleUploadedFile(state, b"\x80fake sam weights")}

    def happened(self, ctx, state, user):
        from models_mgmt.models import Segmenter

        return Segmenter.objects.filter(
            project=ctx.project, file_name=state, uploaded_by=user
        ).exists()


class SegmenterDelete(SegmenterUpload):
    def setup(self, ctx, n):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from models_mgmt.services.segmenter import segmenter_upload

        upload = SimpleUploadedFile(f"n{n}_sam_b.pt", b"\x80fake sam weights")
        return segmenter_upload(project=ctx.project, actor=None, upload=upload).pk

    def data(self, ctx, state):
        return {"action": "delete"}

    def happened(self, ctx, state, user):
        from models_mgmt.models import Segmenter

        return not Segmenter.objects.filter(pk=state).exists()
