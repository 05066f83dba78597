"""HTTP responses shared by the pages and the API: an item's image bytes."""

from django.http import FileResponse, Http404

from annotate.formats import IMAGE_FORMATS, image_format
from annotate.models import Item


def item_image_response(item: Item, *, thumbnail: bool = False) -> FileResponse:
    """The item's image (or its JPEG thumbnail, when it has one) with a fixed media
    type, nosniff, inline and privately cacheable. Http404 when the file is gone."""
    field = item.thumbnail if thumbnail and item.thumbnail else item.file
    if field is item.thumbnail:
        media_type = IMAGE_FORMATS["JPEG"].media_type
    else:
        media_type = image_format(item.image_format).media_type
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("image file missing") from None
    response = FileResponse(handle, content_type=media_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response
