"""Photos of findings and fixes: checked by content, size-limited, re-encoded without EXIF.

The file's name and the browser's content type are not trusted: Pillow must recognise the
bytes as a JPEG, PNG or WebP image. Images larger than :data:`MAX_PIXELS` are refused before
they are decoded (Pillow's decompression-bomb check raises, and so does our own check of the
header's size). The image is then decoded and written anew (JPEG, or PNG if it has
transparency) from its pixels only, so EXIF (GPS position, camera serial), XMP and comments are
gone. It is stored through Django's storage API (``default_storage``).
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from tryg.walks.models import Action, Finding, Photo

#: Most pixels a photo may have (a 50-megapixel camera is below; a bomb is far above).
MAX_PIXELS = 60_000_000
#: Most photos sent at once with a finding or a fix (each one is decoded and re-encoded).
MAX_PHOTOS = 10
#: Longest side of a stored photo (bigger ones are scaled down).
MAX_SIDE = 2560
ACCEPTED = {"JPEG", "PNG", "WEBP"}


class PhotoError(ValueError):
    """A photo that is refused (answered 400 with this message)."""


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def max_bytes() -> int:
    return int(getattr(settings, "TRYG_WALK_PHOTO_MAX_MB", 10)) * 1024 * 1024


def clean(name: str, stream: IO[bytes], size: int | None = None) -> CleanImage:
    """Check and re-encode one uploaded image; :class:`PhotoError` says why it is refused."""
    limit = max_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit or (size is not None and size > limit):
        raise PhotoError(_("%(file)s is larger than %(mb)d MB.")
                         % {"file": name, "mb": limit // (1024 * 1024)})
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: make it an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED:
                    raise PhotoError(_("%(file)s is not a JPEG, PNG or WebP image.")
                                     % {"file": name})
                if probe.width * probe.height > MAX_PIXELS:
                    raise PhotoError(_("%(file)s has too many pixels (%(w)d × %(h)d).")
                                     % {"file": name, "w": probe.width, "h": probe.height})
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                return _reencode(image)
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(_("%(file)s has too many pixels.") % {"file": name}) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoError(_("%(file)s is not a readable image.") % {"file": name}) from None


def _reencode(image: Image.Image) -> CleanImage:
    # Turn the pixels upright by the EXIF orientation, then drop every piece of metadata.
    upright = ImageOps.exif_transpose(image)
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    has_alpha = upright.mode in ("RGBA", "LA") or (
        upright.mode == "P" and "transparency" in upright.info)
    out = io.BytesIO()
    if has_alpha:
        pixels = Image.new("RGBA", upright.size)
        pixels.paste(upright.convert("RGBA"))
        pixels.save(out, format="PNG", optimize=True)
        kind, ext = "image/png", "png"
    else:
        pixels = Image.new("RGB", upright.size)
        pixels.paste(upright.convert("RGB"))
        pixels.save(out, format="JPEG", quality=85, optimize=True)
        kind, ext = "image/jpeg", "jpg"
    return CleanImage(out.getvalue(), kind, ext, pixels.width, pixels.height)


def store(clean_image: CleanImage, *, finding: Finding | None = None,
          action: Action | None = None, user: Any = None) -> Photo:
    """Save the re-encoded image under a random name and record it."""
    name = default_storage.save(
        f"walks/photos/{uuid.uuid4().hex}.{clean_image.extension}",
        ContentFile(clean_image.data))
    uploaded_by = user if getattr(user, "is_authenticated", False) else None
    return Photo.objects.create(
        finding=finding, action=action, image=name, content_type=clean_image.content_type,
        width=clean_image.width, height=clean_image.height, size=len(clean_image.data),
        uploaded_by=uploaded_by)
