"""What the public sees of the findings: approved/public ones only, without personal data.

The positions of findings that are not public are never sent to the public pages; a public
finding's position is rounded to about ten metres.
"""

from __future__ import annotations

import json
from typing import Any

from tryg.areas.models import Area
from tryg.walks import states
from tryg.walks.checklists import category_label
from tryg.walks.citizens import publicly_visible
from tryg.walks.figures import for_area
from tryg.walks.svgmap import Sketch, sketch

#: Most findings listed on an area page.
AREA_LIMIT = 50


def area_findings(code: str) -> dict[str, Any]:
    """The area page's section: public findings (no reporter, no private position) + figures."""
    rows = (publicly_visible().filter(area_code=code).select_related("action")
            .order_by("-created_at")[:AREA_LIMIT])
    findings = []
    for f in rows:
        state = getattr(getattr(f, "action", None), "state", states.ActionState.NEW)
        findings.append({
            "category": category_label(f.category), "text": f.text[:500],
            "date": (f.observed_at or f.created_at).date(),
            "state": states.label(state), "closed": states.is_closed(state),
            "lat": round(f.lat, 4) if f.lat is not None else None,
            "lon": round(f.lon, 4) if f.lon is not None else None,
        })
    return {"findings": findings, "figures": for_area(code),
            "sketch": _sketch(code, findings)}


def _sketch(code: str, findings: list[dict[str, Any]]) -> Sketch | None:
    placed = [(f["lon"], f["lat"], f"{f['category']}: {f['state']}") for f in findings
              if f["lat"] is not None]
    if not placed:
        return None
    text = Area.objects.filter(code=code).values_list("geometry", flat=True).first()
    try:
        geometry = json.loads(text) if text else None
    except json.JSONDecodeError:
        geometry = None
    return sketch(geometry, placed)
