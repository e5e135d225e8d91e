"""Helpers of the walk tests: organisations, users, a walk, images made with Pillow."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib

from django.test import Client
from PIL import Image

from tryg.accounts.models import Organisation, Role, User
from tryg.walks import checklists
from tryg.walks.findings import Observation, record
from tryg.walks.invitations import new_token
from tryg.walks.models import Finding, Participant, Walk

NOW = dt.datetime(2026, 10, 1, 19, 30, tzinfo=dt.UTC)


def organisations() -> dict[str, Organisation]:
    return {
        "municipality": Organisation.objects.create(name="Testkommune W", kind="municipality"),
        "housing": Organisation.objects.create(name="Boligselskab W", kind="housing"),
        "police": Organisation.objects.create(name="Politi W", kind="police"),
    }


def users(orgs: dict[str, Organisation]) -> dict[str, User]:
    return {
        "coordinator": User.objects.create_user("coord-w", role=Role.COORDINATOR,
                                                organisation=orgs["municipality"]),
        "partner": User.objects.create_user("partner-w", role=Role.PARTNER,
                                            organisation=orgs["housing"]),
        "other_partner": User.objects.create_user("partner-p", role=Role.PARTNER,
                                                  organisation=orgs["police"]),
        "walker": User.objects.create_user("walker-w", role=Role.WALKER),
    }


def coordinator_client(language: str | None = "en") -> Client:
    """A test client logged in as a new coordinator (the site's pages in ``language``)."""
    client = Client()
    client.force_login(users(organisations())["coordinator"])
    if language is not None:
        client.get(f"/sprog/{language}/")
    return client


def walk(area_code: str = "W1", **kwargs: object) -> Walk:
    values: dict[str, object] = {
        "title": "Testvandring", "area_code": area_code, "date": dt.date(2026, 10, 1),
        "start_time": dt.time(19, 30), "meeting_point": "Torvet",
        "checklist": checklists.default_template()}
    values.update(kwargs)
    return Walk.objects.create(**values)


def participant(w: Walk, name: str = "Beboer", email: str = "beboer@example.org",
                **kwargs: object) -> Participant:
    return Participant.objects.create(walk=w, name=name, email=email, token=new_token(),
                                      **kwargs)


def finding(w: Walk | None, category: str = "lighting", lat: float | None = 57.05,
            lon: float | None = 9.92, key: str = "", text: str = "mørk sti",
            now: dt.datetime = NOW) -> Finding:
    made, _created = record(Observation(category=category, text=text, lat=lat, lon=lon,
                                        idempotency_key=key), walk=w, now=now)
    return made


def jpeg(size: tuple[int, int] = (64, 48), exif: bytes | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    if exif is None:
        image.save(out, format="JPEG")
    else:
        image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A 1×1 PNG whose header claims ``width`` × ``height`` pixels (a bomb's header)."""
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, format="PNG")
    data = bytearray(out.getvalue())
    # IHDR starts at byte 8: length(4) 'IHDR'(4) width(4) height(4) ... crc(4)
    data[16:24] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF
    data[29:33] = struct.pack(">I", crc)
    return bytes(data)


def png_bomb(side: int) -> bytes:
    """A real 1-bit PNG of side × side pixels: a few kB on disk, ``side²`` pixels decoded."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, format="PNG", optimize=True)
    return out.getvalue()
