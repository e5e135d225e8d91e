"""The walk pages: thin views over the services; the rules are in :mod:`tryg.accounts.roles`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.forms import ChoiceField
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from tryg.accounts import roles
from tryg.accounts.models import Organisation
from tryg.areas.models import Area
from tryg.walks import actions, checklists, citizens, figures, findings, meeting, states
from tryg.walks.forms import (
    AssignForm,
    CommentForm,
    FindingForm,
    MoveForm,
    ParticipantForm,
    ReportForm,
    RevisitForm,
    RewalkForm,
    WalkForm,
)
from tryg.walks.invitations import invite, new_token, send_summary
from tryg.walks.models import Action, Finding, Participant, Photo, Revisit, Walk
from tryg.walks.photos import MAX_PHOTOS, CleanImage, PhotoError, clean, store
from tryg.web import params
from tryg.web.access import require

STATIC = Path(__file__).resolve().parent / "static" / "walks"


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _walk(walk_id: int) -> Walk:
    return get_object_or_404(Walk.objects.select_related("checklist", "organiser"), pk=walk_id)


# -- planning ----------------------------------------------------------------------------------

@require(roles.can_plan_walks)
def walk_list(request: HttpRequest) -> HttpResponse:
    walks = Walk.objects.select_related("organiser").order_by("-date", "-id")[:200]
    return render(request, "walks/walk_list.html", {"walks": walks})


@require(roles.can_plan_walks)
def walk_new(request: HttpRequest) -> HttpResponse:
    checklists.default_template()
    form = WalkForm(request.POST or None, request.FILES or None,
                    initial={"checklist": checklists.default_template().pk})
    if request.method == "POST" and form.is_valid():
        walk = form.save(commit=False)
        walk.route = form.route
        walk.created_by = request.user
        walk.save()
        messages.success(request, _("The walk is planned. Add its participants."))
        return redirect("walks:detail", walk.pk)
    areas = list(Area.objects.order_by("level", "name").values_list("code", "name")[:3000])
    status = 400 if request.method == "POST" else 200
    return render(request, "walks/walk_new.html", {"form": form, "areas": areas},
                  status=status)


@require(roles.can_plan_walks)
def walk_detail(request: HttpRequest, walk_id: int) -> HttpResponse:
    walk = _walk(walk_id)
    participant_form = ParticipantForm(request.POST or None, prefix="p", walk=walk)
    if request.method == "POST" and participant_form.is_valid():
        p = participant_form.save(commit=False)
        p.walk = walk
        p.token = new_token()
        if not p.name and p.user is not None:
            p.name = p.user.get_full_name() or p.user.get_username()
        if not p.name:
            participant_form.add_error("name", _("A participant needs a name."))
        else:
            p.save()
            messages.success(request, _("Participant added."))
            return redirect("walks:detail", walk.pk)
    acts = meeting.walk_actions(walk)
    return render(request, "walks/walk_detail.html", {
        "walk": walk, "participants": walk.participants.select_related("organisation", "user"),
        "participant_form": participant_form, "actions": acts,
        "revisits": walk.revisit_items.select_related("finding", "finding__action"),
        "rewalk_form": RewalkForm(initial={"time_of_day": walk.time_of_day}),
        "base_url": _base_url(request),
    }, status=400 if request.method == "POST" else 200)


@require(roles.can_plan_walks)
@require_POST
def walk_invite(request: HttpRequest, walk_id: int) -> HttpResponse:
    walk = _walk(walk_id)
    if walk.status != states.WalkStatus.PLANNED:
        # a walk already walked (or cancelled) is not announced again with a calendar file
        messages.error(request, _("Invitations and reminders go out only for a planned walk "
                                  "(this one: %(status)s).")
                       % {"status": walk.get_status_display()})
        return redirect("walks:detail", walk.pk)
    reminder = request.POST.get("kind") == "reminder"
    count = invite(walk, walk.participants.all(), base_url=_base_url(request),
                   reminder=reminder)
    messages.success(request, _("%(n)d e-mails sent.") % {"n": count})
    return redirect("walks:detail", walk.pk)


# -- recording ---------------------------------------------------------------------------------

def _categories(walk: Walk) -> list[tuple[str, str]]:
    return [(c.code, checklists.category_label(c.code, c.name))
            for c in walk.checklist.categories.all()]


def _parameters(walk: Walk) -> list[tuple[str, str]]:
    return [(p.code, checklists.parameter_label(p.code, p.name))
            for p in walk.checklist.parameters.all()]


def _photos(request: HttpRequest) -> list[CleanImage]:
    files = request.FILES.getlist("photos")
    if len(files) > MAX_PHOTOS:  # refused before any is decoded
        raise PhotoError(_("At most %(n)d photos at once.") % {"n": MAX_PHOTOS})
    return [clean(f.name or "photo", f, f.size) for f in files]


def _finding_form(data: Any, walk: Walk, staff: bool) -> FindingForm:
    people = ([(str(p.pk), p.name) for p in walk.participants.all()] if staff else None)
    return FindingForm(data, categories=_categories(walk), parameters=_parameters(walk),
                       rating_max=walk.checklist.rating_max, participants=people)


def _record(request: HttpRequest, walk: Walk, *, participant: Participant | None,
            staff: bool, action_url: str, map_url: str) -> HttpResponse:
    if not states.accepts_findings(walk.status):
        return _closed(request, walk, _finding_form(None, walk, staff), participant,
                       action_url, map_url)
    form = _finding_form(request.POST or None, walk, staff)
    if request.method == "POST":
        if not form.is_valid():
            if _wants_json(request):
                return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
            return _record_page(request, walk, form, participant, action_url, map_url, 400)
        try:
            images = _photos(request)
        except PhotoError as exc:
            if _wants_json(request):
                return JsonResponse({"errors": {"photos": [{"message": str(exc)}]}},
                                    status=400)
            form.add_error(None, str(exc))
            return _record_page(request, walk, form, participant, action_url, map_url, 400)
        data = form.cleaned_data
        who = participant
        if staff and data.get("on_behalf_of"):
            who = walk.participants.filter(pk=data["on_behalf_of"]).first()
        observation = findings.Observation(
            category=data["category"], text=data["text"], lat=data["lat"], lon=data["lon"],
            ratings=form.ratings(), suggested_fix=data["suggested_fix"],
            suggested_owner=data["suggested_owner"], address=data["address"],
            idempotency_key=f"walk:{walk.pk}:{data['idempotency_key']}", photos=images)
        finding, created = findings.record(observation, walk=walk, participant=who,
                                           user=request.user)
        meeting.mark_walked(walk)
        if _wants_json(request):
            return JsonResponse({"id": finding.pk, "created": created},
                                status=201 if created else 200)
        messages.success(request, _("Finding saved.") if created
                         else _("This finding was already saved."))
        return redirect(action_url)
    return _record_page(request, walk, form, participant, action_url, map_url, 200)


def _closed(request: HttpRequest, walk: Walk, form: FindingForm,
            participant: Participant | None, action_url: str, map_url: str) -> HttpResponse:
    """A walk that takes no new findings (closing meeting held, closed, cancelled): the page
    says so and lists what was recorded; a finding sent to it is refused with 409 Conflict
    (the link is valid, the walk's state refuses it), which the phone's queue drops with
    this message instead of trying again (record.js)."""
    message = _("This walk is closed for new findings (%(status)s).") % {
        "status": walk.get_status_display()}
    if request.method == "POST" and _wants_json(request):
        return JsonResponse({"errors": {"__all__": [{"message": message, "code": "closed"}]}},
                            status=409)
    return _record_page(request, walk, form, participant, action_url, map_url,
                        409 if request.method == "POST" else 200, closed=message)


def _record_page(request: HttpRequest, walk: Walk, form: FindingForm,
                 participant: Participant | None, action_url: str, map_url: str,
                 status: int, *, closed: str = "") -> HttpResponse:
    if participant is not None:
        own = walk.findings.filter(participant=participant)
    elif roles.can_plan_walks(request.user):
        own = walk.findings.all()
    else:
        own = walk.findings.filter(recorded_by_id=request.user.pk)
    return render(request, "walks/record.html", {
        "walk": walk, "form": form, "participant": participant, "action_url": action_url,
        "map_url": map_url, "own": own.order_by("-created_at")[:100],
        "sw_url": reverse("walks:service_worker"), "closed": closed,
    }, status=status)


@never_cache
def record(request: HttpRequest, walk_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    walk = _walk(walk_id)
    if not roles.can_record_on_walk(request.user, walk):
        raise PermissionDenied
    participant = (None if roles.can_plan_walks(request.user)
                   else walk.participants.filter(user=request.user).first())
    return _record(request, walk, participant=participant,
                   staff=roles.can_plan_walks(request.user),
                   action_url=reverse("walks:record", args=[walk.pk]),
                   map_url=reverse("walks:map", args=[walk.pk]))


def _participant(token: str) -> Participant:
    found = (Participant.objects.select_related("walk", "walk__checklist")
             .filter(token=token).first() if 20 <= len(token) <= 64 else None)
    if found is None:
        raise Http404
    return found


@never_cache
def personal(request: HttpRequest, token: str) -> HttpResponse:
    """The personal link of a participant (no account needed): the walk and its form."""
    participant = _participant(token)
    return _record(request, participant.walk, participant=participant, staff=False,
                   action_url=reverse("walks:personal", args=[token]),
                   map_url=reverse("walks:personal_map", args=[token]))


def _map_json(walk: Walk) -> JsonResponse:
    area = Area.objects.filter(code=walk.area_code).values_list("geometry", flat=True).first()
    return JsonResponse({
        "area": json.loads(area) if area else None,
        "route": json.loads(walk.route) if walk.route else None,
    })


@never_cache
def walk_map(request: HttpRequest, walk_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    walk = _walk(walk_id)
    if not roles.can_record_on_walk(request.user, walk):
        raise PermissionDenied
    return _map_json(walk)


@never_cache
def personal_map(request: HttpRequest, token: str) -> HttpResponse:
    return _map_json(_participant(token).walk)


def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served under /tryghedsvandringer/ so that is its scope."""
    response = HttpResponse((STATIC / "sw.js").read_bytes(),
                            content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


# -- findings and actions ----------------------------------------------------------------------

def _visible_action(request: HttpRequest, action_id: int) -> Action:
    """The action if ``request.user`` may see it; 404 otherwise (its existence is not told)."""
    action = (Action.objects.select_related("finding", "finding__walk", "organisation")
              .filter(pk=action_id).first())
    if action is None or not roles.can_see_action(request.user, action):
        raise Http404
    return action


def _login_first(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


@never_cache
def action_list(request: HttpRequest) -> HttpResponse:
    if (login := _login_first(request)) is not None:
        return login
    if not roles.can_see_actions(request.user):
        raise PermissionDenied
    state = request.GET.get("state", "")
    rows = actions.visible_actions(request.user).order_by("deadline", "id")
    if state in states.ActionState.values:
        rows = rows.filter(state=state)
    elif state == "open":
        rows = rows.filter(state__in=states.OPEN_STATES)
    return render(request, "walks/action_list.html", {
        "actions": rows[:500], "state": state, "states": states.ActionState.choices})


def _move_form(data: Any, state: str, partner: bool) -> MoveForm:
    form = MoveForm(data, prefix="m")
    cast(ChoiceField, form.fields["state"]).choices = [
        (s, states.label(s)) for s in states.allowed_moves(state, partner=partner)]
    return form


@never_cache
def action_detail(request: HttpRequest, action_id: int) -> HttpResponse:
    if (login := _login_first(request)) is not None:
        return login
    action = _visible_action(request, action_id)
    partner = roles.is_partner(request.user)
    planner = roles.can_plan_walks(request.user)
    move_form = _move_form(None, action.state, partner)
    found_on = action.finding.walk
    walk_date = found_on.date if found_on is not None else None
    # a refused comment or owner comes back as sent, with its error (not a blank form)
    comment_form = CommentForm()
    assign_form = (AssignForm(initial={"organisation": action.organisation_id,
                                       "deadline": action.deadline,
                                       "promise": action.promise}, walk_date=walk_date)
                   if planner else None)
    status = 200
    if request.method == "POST":
        what = request.POST.get("what", "")
        if what == "move":
            move_form = _move_form(request.POST, action.state, partner)
            if move_form.is_valid():
                data = move_form.cleaned_data
                dup = (Finding.objects.filter(pk=data["duplicate_of"]).first()
                       if planner and data.get("duplicate_of") else None)
                try:
                    actions.move(action, data["state"], user=request.user,
                                 comment=data["comment"], duplicate_of=dup)
                except actions.NotADuplicateError as exc:
                    move_form.add_error("duplicate_of", str(exc))
                except states.StateMoveError as exc:
                    move_form.add_error("state", str(exc))
                else:
                    messages.success(request, _("State changed."))
                    return redirect("walks:action", action.pk)
            status = 400
        elif what == "comment":
            comment_form = CommentForm(request.POST)
            if comment_form.is_valid():
                actions.add_comment(action, comment_form.cleaned_data["comment"],
                                    user=request.user)
                return redirect("walks:action", action.pk)
            status = 400
        elif what == "photo":
            try:
                for image in _photos(request):
                    store(image, action=action, user=request.user)
            except PhotoError as exc:
                messages.error(request, str(exc))
                status = 400
            else:
                return redirect("walks:action", action.pk)
        elif what == "assign" and planner:
            assign_form = AssignForm(request.POST, walk_date=walk_date)
            if assign_form.is_valid():
                d = assign_form.cleaned_data
                actions.assign(action, organisation=d["organisation"], deadline=d["deadline"],
                               promise=d["promise"], user=request.user)
                messages.success(request, _("Owner and deadline saved."))
                return redirect("walks:action", action.pk)
            status = 400
        else:
            # a form the page does not have: the site's 400 page, in the visitor's language
            raise BadRequest(_("Unknown change."))
    finding = action.finding
    return render(request, "walks/action_detail.html", {
        "action": action, "finding": finding, "move_form": move_form,
        "comment_form": comment_form, "planner": planner, "assign_form": assign_form,
        "events": action.events.all(),
        "finding_photos": finding.photos.all(), "fix_photos": action.photos.all(),
        "duplicates": findings.duplicates_of(finding) if planner else [],
        "category": checklists.category_label(finding.category),
        "reporter_visible": roles.can_moderate_reports(request.user),
    }, status=status)


@never_cache
def photo(request: HttpRequest, photo_id: int) -> HttpResponse:
    found = Photo.objects.select_related("finding", "action", "action__finding").filter(
        pk=photo_id).first()
    if found is None:
        raise Http404
    action = found.action or Action.objects.filter(finding=found.finding).first()
    allowed = action is not None and roles.can_see_action(request.user, action)
    if not allowed:
        raise Http404
    # Stored photos are small (re-encoded, at most MAX_SIDE pixels a side): read them whole
    # rather than stream an open file.
    with default_storage.open(str(found.image.name), "rb") as stored:
        data = stored.read()
    return HttpResponse(data, content_type=found.content_type)


# -- closing meeting, re-walk, summary ---------------------------------------------------------

@require(roles.can_plan_walks)
def walk_meeting(request: HttpRequest, walk_id: int) -> HttpResponse:
    walk = _walk(walk_id)
    if request.method == "POST":
        try:
            meeting.hold_meeting(walk, user=request.user)
        except states.StateMoveError as exc:
            messages.error(request, str(exc))
            return redirect("walks:meeting", walk.pk)
        messages.success(request, _("The closing meeting is recorded."))
        return redirect("walks:meeting", walk.pk)
    return render(request, "walks/meeting.html", {
        "walk": walk, "groups": meeting.grouped_by_owner(walk),
        "organisations": Organisation.objects.all()})


@require(roles.can_plan_walks)
def walk_print(request: HttpRequest, walk_id: int) -> HttpResponse:
    walk = _walk(walk_id)
    return render(request, "walks/print.html", {
        "walk": walk, "groups": meeting.grouped_by_owner(walk), "printed": timezone.now()})


@require(roles.can_plan_walks)
@require_POST
def walk_rewalk(request: HttpRequest, walk_id: int) -> HttpResponse:
    walk = _walk(walk_id)
    form = RewalkForm(request.POST)
    if not form.is_valid():
        # a date out of bounds says why; a missing field asks for it
        errors = form.errors.get("date") if form.data.get("date") else None
        messages.error(request, str(errors[0]) if errors else _("Give the re-walk a date "
                                                                 "and a start time."))
        return redirect("walks:detail", walk.pk)
    d = form.cleaned_data
    try:
        rewalk = meeting.schedule_rewalk(walk, date=d["date"], start_time=d["start_time"],
                                         time_of_day=d["time_of_day"], user=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("walks:detail", walk.pk)
    messages.success(request, _("The re-walk is planned."))
    return redirect("walks:detail", rewalk.pk)


@require(roles.can_plan_walks)
@require_POST
def walk_revisit(request: HttpRequest, walk_id: int, revisit_id: int) -> HttpResponse:
    revisit = get_object_or_404(Revisit, pk=revisit_id, walk_id=walk_id)
    form = RevisitForm(request.POST)
    if not form.is_valid():
        raise BadRequest(_("Choose confirm or reopen."))
    meeting.check_revisit(revisit, reopen=form.cleaned_data["outcome"] == "reopen",
                          note=form.cleaned_data["note"], user=request.user)
    return redirect("walks:detail", walk_id)


@require(roles.can_plan_walks)
@require_POST
def walk_summary(request: HttpRequest, walk_id: int) -> HttpResponse:
    walk = _walk(walk_id)
    count = send_summary(walk, meeting.summary_lines(walk), base_url=_base_url(request))
    messages.success(request, _("The summary was sent to %(n)d participants.") % {"n": count})
    return redirect("walks:detail", walk.pk)


# -- citizens ----------------------------------------------------------------------------------

def _report_form(data: Any = None, area_code: str = "") -> ReportForm:
    template = checklists.default_template()
    return ReportForm(data, categories=[(c.code, checklists.category_label(c.code, c.name))
                                        for c in template.categories.all()],
                      parameters=[], rating_max=template.rating_max,
                      initial={"area_code": area_code})


def report(request: HttpRequest) -> HttpResponse:
    """The public form "report an unsafe place" (anonymous allowed, rate-limited); linked
    from an area's page with ``?area=<code>``."""
    form = _report_form(request.POST or None, params.text(request, "area", max_length=40))
    if request.method == "POST":
        if not citizens.allow(get_client_ip_address(request) or ""):
            return render(request, "walks/report.html", {"form": form, "limited": True},
                          status=429)
        if form.is_valid():
            try:
                images = _photos(request)
            except PhotoError as exc:
                form.add_error(None, str(exc))
            else:
                d = form.cleaned_data
                citizens.report(findings.Observation(
                    category=d["category"], text=d["text"], lat=d["lat"], lon=d["lon"],
                    address=d["address"], suggested_fix=d["suggested_fix"],
                    idempotency_key=f"citizen:{d['idempotency_key']}", photos=images),
                    area_code=d.get("area_code", ""), name=d["name"], email=d["email"],
                    user=request.user)
                return redirect("walks:report_thanks")
        return render(request, "walks/report.html", {"form": form}, status=400)
    return render(request, "walks/report.html", {"form": form})


def report_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "walks/report_thanks.html")


@require(roles.can_moderate_reports)
def moderation(request: HttpRequest) -> HttpResponse:
    return render(request, "walks/moderation.html", {"pending": citizens.pending()[:200]})


@require(roles.can_moderate_reports)
@require_POST
def moderate(request: HttpRequest, finding_id: int) -> HttpResponse:
    finding = get_object_or_404(Finding, pk=finding_id,
                                source__in=citizens.MODERATED_SOURCES)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        raise BadRequest(_("Choose approve or reject."))
    try:
        citizens.moderate(finding, approve=decision == "approve")
    except citizens.AlreadyDecidedError as exc:
        messages.error(request, str(exc))
        return redirect("walks:moderation")
    messages.success(request, _("Report approved.") if decision == "approve"
                     else _("Report rejected."))
    return redirect("walks:moderation")


# -- figures -----------------------------------------------------------------------------------

@require(roles.can_see_walk_figures)
def figures_page(request: HttpRequest) -> HttpResponse:
    tables = figures.cached_rendering(
        f"page:{get_language() or 'da'}",
        lambda owners, areas: render_to_string("walks/figures_tables.html",
                                               {"owners": owners, "areas": areas}))
    return render(request, "walks/figures.html", {"tables": mark_safe(tables)})



@require(roles.can_plan_walks)
def area_map(request: HttpRequest, code: str) -> HttpResponse:
    """An area's outline (GeoJSON) for drawing a route on it."""
    geometry = Area.objects.filter(code=code).values_list("geometry", flat=True).first()
    if geometry is None:
        raise Http404
    return JsonResponse({"area": json.loads(geometry) if geometry else None})
