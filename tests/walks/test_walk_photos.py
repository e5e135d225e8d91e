"""Photos: checked by content, size-limited, bombs refused, re-encoded without EXIF."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.utils import override_settings
from PIL import Image

from tryg.walks.models import Finding, Photo
from tryg.walks.photos import MAX_PHOTOS, MAX_PIXELS, PhotoError, clean
from walks.walk_fixtures import jpeg, organisations, png_bomb, png_claiming, users, walk

GPS_LATITUDE = (57, 2, 52.5)
SERIAL = "CAMERA-SERIAL-77123"


def _exif_with_gps_and_serial() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Testmaker"  # Make
    exif[0xA431] = SERIAL  # BodySerialNumber (an Exif IFD tag; Pillow writes it in IFD0)
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = GPS_LATITUDE
    gps[3] = "E"
    gps[4] = (9, 55, 12.0)
    return exif.tobytes()


def test_the_test_jpeg_really_carries_gps_and_a_serial() -> None:
    data = jpeg(exif=_exif_with_gps_and_serial())
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        assert exif.get_ifd(0x8825)[1] == "N"
    assert SERIAL.encode() in data


def test_a_non_image_with_an_image_name_is_refused() -> None:
    with pytest.raises(PhotoError, match="not a readable image"):
        clean("holiday.jpg", io.BytesIO(b"%PDF-1.7\nnot a picture at all\n" * 20))


def test_a_gif_is_refused_by_content_whatever_its_name() -> None:
    out = io.BytesIO()
    Image.new("P", (4, 4)).save(out, format="GIF")
    out.seek(0)
    with pytest.raises(PhotoError, match="not a JPEG, PNG or WebP"):
        clean("photo.jpg", out)


@override_settings(TRYG_WALK_PHOTO_MAX_MB=1)
def test_an_oversized_file_is_refused_before_it_is_decoded() -> None:
    big = jpeg() + b"\0" * (1024 * 1024)
    with pytest.raises(PhotoError, match="larger than 1 MB"):
        clean("big.jpg", io.BytesIO(big))


def test_a_header_claiming_billions_of_pixels_is_refused() -> None:
    with pytest.raises(PhotoError, match="too many pixels"):
        clean("bomb.png", io.BytesIO(png_claiming(50_000, 50_000)))


def test_a_real_decompression_bomb_is_refused() -> None:
    side = 9000  # 81 million pixels: over MAX_PIXELS, under Pillow's own hard limit
    assert side * side > MAX_PIXELS
    data = png_bomb(side)
    assert len(data) < 200_000
    with pytest.raises(PhotoError, match="too many pixels"):
        clean("bomb.png", io.BytesIO(data))


def test_a_jpeg_is_stored_re_encoded_without_any_exif() -> None:
    cleaned = clean("gps.jpg", io.BytesIO(jpeg(exif=_exif_with_gps_and_serial())))
    assert cleaned.content_type == "image/jpeg"
    assert b"Exif" not in cleaned.data
    assert SERIAL.encode() not in cleaned.data
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert not image.getexif()
        assert image.size == (64, 48)


@pytest.mark.django_db
def test_uploads_through_the_recording_page() -> None:
    """The four cases through the page: 400 thrice with nothing stored, then a clean photo."""
    orgs = organisations()
    people = users(orgs)
    w = walk()
    client = Client()
    client.force_login(people["coordinator"])
    url = f"/tryghedsvandringer/{w.pk}/registrer/"

    def post(name: str, data: bytes, key: str) -> int:
        upload = SimpleUploadedFile(name, data, content_type="image/jpeg")
        response = client.post(url, {"idempotency_key": key, "category": "lighting",
                                      "text": "sti", "photos": upload},
                                HTTP_ACCEPT="application/json")
        return response.status_code

    assert post("fake.jpg", b"GIF89a? no: plain text pretending" * 10, "k1") == 400
    with override_settings(TRYG_WALK_PHOTO_MAX_MB=1):
        assert post("big.jpg", jpeg() + b"\0" * (1024 * 1024), "k2") == 400
    assert post("bomb.png", png_bomb(9000), "k3") == 400
    assert Finding.objects.count() == 0 and Photo.objects.count() == 0

    assert post("gps.jpg", jpeg(exif=_exif_with_gps_and_serial()), "k4") == 201
    photo = Photo.objects.get()
    with default_storage.open(str(photo.image.name), "rb") as stored:
        data = stored.read()
    assert b"Exif" not in data and SERIAL.encode() not in data
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif()
    assert (photo.width, photo.height) == (64, 48)
    # and it is served to those who may see the finding
    response = client.get(f"/tryghedsvandringer/foto/{photo.pk}/")
    assert response.status_code == 200
    assert response.content == data and response["Content-Type"] == "image/jpeg"


@pytest.mark.django_db
def test_more_photos_than_the_limit_are_refused_before_any_is_decoded() -> None:
    """Eleven photos were all decoded and re-encoded, then the eleventh silently dropped."""
    people = users(organisations())
    w = walk()
    client = Client()
    client.force_login(people["coordinator"])
    url = f"/tryghedsvandringer/{w.pk}/registrer/"

    def post(count: int, key: str) -> Any:
        uploads = [SimpleUploadedFile(f"p{i}.jpg", jpeg(), content_type="image/jpeg")
                   for i in range(count)]
        return client.post(url, {"idempotency_key": key, "category": "lighting",
                                 "text": "sti", "photos": uploads},
                           HTTP_ACCEPT="application/json")

    refused = post(MAX_PHOTOS + 1, "k1")
    assert refused.status_code == 400
    assert str(MAX_PHOTOS) in refused.json()["errors"]["photos"][0]["message"]
    assert Finding.objects.count() == 0 and Photo.objects.count() == 0
    assert post(MAX_PHOTOS, "k2").status_code == 201
    assert Photo.objects.count() == MAX_PHOTOS
