"""Invitations and reminders (each with a calendar file) go out only for a planned walk: the
probe sent them for a walk already walked, whose closing meeting was held."""

from __future__ import annotations

import pytest
from django.core import mail

from tryg.walks.models import Participant
from tryg.walks.states import WalkStatus
from walks.walk_fixtures import coordinator_client, participant, walk

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", [WalkStatus.HELD, WalkStatus.MEETING_HELD,
                                    WalkStatus.CLOSED, WalkStatus.CANCELLED])
@pytest.mark.parametrize("kind", ["invitation", "reminder"])
def test_a_walk_no_longer_planned_is_not_announced(status: str, kind: str) -> None:
    w = walk(status=status)
    participant(w)
    client = coordinator_client()
    page = client.post(f"/tryghedsvandringer/{w.pk}/inviter/", {"kind": kind}, follow=True)
    assert mail.outbox == []
    assert "Invitations and reminders go out only for a planned walk" in page.content.decode()
    assert b'id="send-invitations"' not in page.content  # nor offered
    assert Participant.objects.get(walk=w).invited_at is None


def test_a_planned_walk_is_announced() -> None:
    w = walk()
    participant(w)
    client = coordinator_client()
    assert b'id="send-invitations"' in client.get(f"/tryghedsvandringer/{w.pk}/").content
    client.post(f"/tryghedsvandringer/{w.pk}/inviter/", {"kind": "invitation"})
    assert [m.to for m in mail.outbox] == [["beboer@example.org"]]
