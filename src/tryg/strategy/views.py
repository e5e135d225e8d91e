"""The strategy pages: thin views over :mod:`tryg.strategy.overview` and the services.

* public (content by who asks): the list of strategies and initiatives, a strategy's overview
  (focus areas × initiatives × indicators with status), an initiative's page;
* coordinators: forms for strategies, focus areas, initiatives, indicators, baselines, targets,
  the history and the template export;
* partners: measurements and notes for their own organisation's initiatives (403 for others).

Objects a visitor may not see answer 404; pages a logged-in visitor may not use, 403; the
anonymous are sent to the log-in page (:func:`tryg.web.access.require`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from tryg.accounts import roles
from tryg.accounts.models import User
from tryg.imports.problems import localized_all
from tryg.imports.uploads import max_upload_bytes
from tryg.index.inputs import InputError
from tryg.strategy import forms, overview, presentation, services
from tryg.strategy import measurement_import as measurement_import_service
from tryg.strategy.models import (
    Baseline,
    ChangeRecord,
    FocusArea,
    Indicator,
    Initiative,
    Measurement,
    Strategy,
)
from tryg.strategy.yaml_template import export_strategy
from tryg.web.access import require


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "da"


def _strategy_or_404(request: HttpRequest, strategy_id: int) -> Strategy:
    found = overview.visible_strategies(request.user).filter(pk=strategy_id).first()
    if found is None:
        raise Http404
    return found


def _initiative_or_404(request: HttpRequest, initiative_id: int) -> Initiative:
    found = (overview.initiatives_queryset(request.user).filter(pk=initiative_id).first())
    if found is None:
        raise Http404
    return found


# -- public pages ---------------------------------------------------------------------------


@require_safe
def strategy_list(request: HttpRequest) -> HttpResponse:
    strategies = list(overview.visible_strategies(request.user).prefetch_related("partners"))
    initiatives = list(overview.visible_initiatives(request.user)
                       .select_related("focus_area__strategy").prefetch_related("owners")
                       .order_by("focus_area__strategy_id", "focus_area__order", "order", "id"))
    return render(request, "strategy/list.html", {
        "strategies": strategies, "initiatives": initiatives,
        "can_edit": roles.can_edit_strategy(request.user),
        "can_import": roles.can_import_measurements(request.user)})


@require_safe
def strategy_overview(request: HttpRequest, strategy_id: int) -> HttpResponse:
    strategy = _strategy_or_404(request, strategy_id)
    view = overview.strategy_view(strategy, request.user, services.today())
    language = _language()
    return render(request, "strategy/overview.html", {
        "view": view, "strategy": strategy,
        "focus_areas": [(fa, presentation.overview_rows(fa, language))
                        for fa in view.focus_areas],
        "can_edit": roles.can_edit_strategy(request.user)})


@require_safe
def initiative_page(request: HttpRequest, initiative_id: int) -> HttpResponse:
    """What is being done where, by whom, and how it is going."""
    initiative = _initiative_or_404(request, initiative_id)
    language = _language()
    context = overview.context_for(request.user)
    view = overview.initiative_view(initiative, request.user, context, services.today())
    show_unpublished = roles.can_see_unpublished_measurements(request.user, initiative)
    indicators = []
    evaluations = []
    for iv in view.indicators:
        notes = [n for n in iv.indicator.notes.all() if n.published or show_unpublished]
        indicators.append({
            "view": iv, "status": presentation.status_context(iv, language),
            "chart": presentation.trend_chart(iv, language),
            "rows": presentation.indicator_rows(iv, language), "notes": notes,
            "targets": iv.targets,
        })
        found = presentation.evaluation(initiative, iv.indicator, context, language)
        if found is not None:
            evaluations.append(found)
    from tryg.areas.models import Area

    codes = [a.code for a in initiative.areas.all()]
    names = dict(Area.objects.filter(code__in=codes).values_list("code", "name"))
    return render(request, "strategy/initiative.html", {
        "initiative": initiative, "view": view, "indicators": indicators,
        "areas": [(c, names.get(c, c)) for c in codes],
        "evaluations": presentation.collapsed(evaluations),
        "show_unpublished": show_unpublished,
        "history": services.history(initiative)[:20] if view.can_edit else []})


# -- coordinators' forms --------------------------------------------------------------------


def _form_page(request: HttpRequest, form: BaseForm, title: str,
               done: Callable[[Any], str], save: Callable[[Any], Any],
               back: str) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            obj = save(form)
        return HttpResponseRedirect(done(obj))
    status = 400 if request.method == "POST" else 200
    return render(request, "strategy/form.html", {"form": form, "title": title, "back": back},
                  status=status)


def _model_save(request: HttpRequest, m2m: tuple[str, ...] = ()) -> Callable[[Any], Any]:
    def save(form: Any) -> Any:
        obj = form.save(commit=False)
        return services.save(obj, request.user,
                             m2m={name: form.cleaned_data[name] for name in m2m})

    return save


def _initiative_save(request: HttpRequest) -> Callable[[Any], Any]:
    def save(form: Any) -> Any:
        obj = form.save(commit=False)
        obj.comparison_areas = form.cleaned_data["comparison"]
        return services.save(obj, request.user, m2m={"owners": form.cleaned_data["owners"]},
                             areas=form.cleaned_data["area_codes"])

    return save


@dataclass(frozen=True)
class _CoordinatorForm:
    """One of the coordinators' form pages, said once: the object its URL names (``None`` for a
    new strategy), the form and what it edits or adds, where "back" leads and where a saved form
    goes. Every such page is GET/POST, for those who may edit strategies, and saves through the
    services (so the change is kept in the history)."""

    title: Promise
    form: Callable[..., BaseForm]
    #: the object the URL names → the form's keyword arguments (``instance=…``)
    bind: Callable[[Any], dict[str, Any]]
    #: the object the URL names → the page "back" leads to
    back: Callable[[Any], str]
    #: (the object the URL names, the saved object) → where to go; default: back
    done: Callable[[Any, Any], str] | None = None
    #: the request → how a valid form is saved
    save: Callable[[HttpRequest, Any], Callable[[Any], Any]] = (
        lambda request, _obj: _model_save(request))
    model: type[Model] | None = None

    def view(self) -> Callable[..., HttpResponse]:
        @require(roles.can_edit_strategy)
        @require_http_methods(["GET", "POST"])
        def page(request: HttpRequest, **url: int) -> HttpResponse:
            obj = (get_object_or_404(self.model, pk=next(iter(url.values())))
                   if self.model is not None else None)
            back = self.back(obj)
            form = self.form(request.POST or None, **self.bind(obj))
            done = self.done
            return _form_page(request, form, str(self.title),
                              (lambda saved: done(obj, saved)) if done else (lambda _s: back),
                              self.save(request, obj), back)

        return page


def _overview_of(strategy_id: int) -> str:
    return reverse("strategy:overview", args=[strategy_id])


def _initiative_url(initiative_id: int) -> str:
    return reverse("strategy:initiative", args=[initiative_id])


def _indicator_edit_url(indicator_id: int) -> str:
    return reverse("strategy:indicator_edit", args=[indicator_id])


def _with_partners(request: HttpRequest, _obj: Any) -> Callable[[Any], Any]:
    return _model_save(request, ("partners",))


def _target_save(request: HttpRequest, indicator: Indicator) -> Callable[[Any], Any]:
    return lambda f: services.add_target(indicator, request.user, f.cleaned_data["when"],
                                         f.cleaned_data["value"])


strategy_new = _CoordinatorForm(
    _lazy("New strategy"), forms.StrategyForm, bind=lambda _none: {},
    back=lambda _none: reverse("strategy:list"),
    done=lambda _none, saved: _overview_of(saved.pk), save=_with_partners).view()
strategy_edit = _CoordinatorForm(
    _lazy("Edit the strategy"), forms.StrategyForm, model=Strategy,
    bind=lambda s: {"instance": s}, back=lambda s: _overview_of(s.pk),
    save=_with_partners).view()
focus_area_new = _CoordinatorForm(
    _lazy("New focus area"), forms.FocusAreaForm, model=Strategy,
    bind=lambda s: {"instance": FocusArea(strategy=s)}, back=lambda s: _overview_of(s.pk)).view()
focus_area_edit = _CoordinatorForm(
    _lazy("Edit the focus area"), forms.FocusAreaForm, model=FocusArea,
    bind=lambda f: {"instance": f}, back=lambda f: _overview_of(f.strategy_id)).view()
initiative_new = _CoordinatorForm(
    _lazy("New initiative"), forms.InitiativeForm, model=FocusArea,
    bind=lambda f: {"instance": Initiative(focus_area=f)},
    back=lambda f: _overview_of(f.strategy_id),
    done=lambda _f, saved: _initiative_url(saved.pk),
    save=lambda request, _f: _initiative_save(request)).view()
initiative_edit = _CoordinatorForm(
    _lazy("Edit the initiative"), forms.InitiativeForm, model=Initiative,
    bind=lambda i: {"instance": i}, back=lambda i: _initiative_url(i.pk),
    save=lambda request, _i: _initiative_save(request)).view()
indicator_new = _CoordinatorForm(
    _lazy("New indicator"), forms.IndicatorForm, model=Initiative,
    bind=lambda i: {"instance": Indicator(initiative=i)}, back=lambda i: _initiative_url(i.pk),
    done=lambda _i, saved: _indicator_edit_url(saved.pk)).view()
target_new = _CoordinatorForm(
    _lazy("New target"), forms.TargetForm, model=Indicator, bind=lambda _i: {},
    back=lambda i: _indicator_edit_url(i.pk), save=_target_save).view()
baseline_edit = _CoordinatorForm(
    _lazy("Baseline"), forms.BaselineForm, model=Indicator,
    bind=lambda i: {"instance": Baseline.objects.filter(indicator=i).first()
                    or Baseline(indicator=i)},
    back=lambda i: _indicator_edit_url(i.pk)).view()


@require(roles.can_edit_strategy)
@require_http_methods(["GET", "POST"])
def indicator_edit(request: HttpRequest, indicator_id: int) -> HttpResponse:
    indicator = get_object_or_404(Indicator, pk=indicator_id)
    form = forms.IndicatorForm(request.POST or None, instance=indicator)
    back = _initiative_url(indicator.initiative_id)
    if request.method == "POST" and form.is_valid():
        services.save(form.save(commit=False), request.user)
        return HttpResponseRedirect(back + f"#indicator-{indicator.pk}")
    return render(request, "strategy/indicator_edit.html", {
        "form": form, "indicator": indicator, "back": back,
        "targets": list(indicator.targets.all()),
        "baseline": Baseline.objects.filter(indicator=indicator).first()},
        status=400 if request.method == "POST" else 200)


@require(roles.can_edit_strategy)
@require_safe
def strategy_history(request: HttpRequest, strategy_id: int) -> HttpResponse:
    strategy = get_object_or_404(Strategy, pk=strategy_id)
    changes = ChangeRecord.objects.filter(strategy_id=strategy.pk)[:500]
    return render(request, "strategy/history.html", {"strategy": strategy,
                                                     "changes": changes})


@require(roles.can_edit_strategy)
@require_safe
def strategy_export(request: HttpRequest, strategy_id: int) -> HttpResponse:
    strategy = get_object_or_404(Strategy, pk=strategy_id)
    response = HttpResponse(export_strategy(strategy),
                            content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="strategy-{strategy.pk}.yaml"'
    return response


# -- partners: measurements and notes ---------------------------------------------------------


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _entry_allowed(request: HttpRequest, initiative: Initiative) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not roles.can_enter_measurements(request.user, initiative):
        raise PermissionDenied
    return None


def _partner_page(model: type[Indicator] | type[Measurement]) -> Callable[
        [Callable[[HttpRequest, Any, str], HttpResponse]], Callable[..., HttpResponse]]:
    """A page of a partner's measurements and notes: the indicator or measurement the URL names,
    sent to the log-in when anonymous (whether or not the id exists), 403 unless the visitor
    may enter measurements for its initiative; the view gets the object and the initiative's
    page to go back to."""
    related = "initiative" if model is Indicator else "indicator__initiative"

    def decorate(view: Callable[[HttpRequest, Any, str], HttpResponse]
                 ) -> Callable[..., HttpResponse]:
        @never_cache
        @require_http_methods(["GET", "POST"])
        def page(request: HttpRequest, **url: int) -> HttpResponse:
            if not request.user.is_authenticated:  # before the look-up: no 404 tells an
                return redirect_to_login(request.get_full_path())  # anonymous which ids exist
            obj: Any = get_object_or_404(model.objects.select_related(related),
                                         pk=next(iter(url.values())))
            initiative = obj.initiative if model is Indicator else obj.indicator.initiative
            refused = _entry_allowed(request, initiative)
            if refused is not None:
                return refused
            return view(request, obj, reverse("strategy:initiative", args=[initiative.pk]))

        page.__doc__ = view.__doc__
        return page

    return decorate


@_partner_page(Indicator)
def measurement_new(request: HttpRequest, indicator: Indicator, back: str) -> HttpResponse:
    form = forms.MeasurementForm(request.POST or None,
                                 instance=Measurement(indicator=indicator,
                                                      entered_by=_user(request)),
                                 initial={"when": services.today()})
    return _form_page(request, form, _("New measurement: %(name)s") % {"name": indicator.name},
                      lambda m: back + f"#indicator-{indicator.pk}", _model_save(request), back)


@_partner_page(Measurement)
def measurement_edit(request: HttpRequest, measurement: Measurement, back: str) -> HttpResponse:
    form = forms.MeasurementForm(request.POST or None, instance=measurement)
    return _form_page(request, form, _("Edit the measurement"),
                      lambda m: back + f"#indicator-{measurement.indicator_id}",
                      _model_save(request), back)


@_partner_page(Indicator)
def note_new(request: HttpRequest, indicator: Indicator, back: str) -> HttpResponse:
    form = forms.NoteForm(request.POST or None)
    return _form_page(request, form, _("The story behind the curve: %(name)s")
                      % {"name": indicator.name},
                      lambda n: back + f"#indicator-{indicator.pk}",
                      lambda f: services.add_note(indicator, request.user,
                                                  f.cleaned_data["text"],
                                                  f.cleaned_data["published"]), back)


@_partner_page(Measurement)
def measurement_delete(request: HttpRequest, measurement: Measurement, back: str
                       ) -> HttpResponse:
    """Delete a measurement entered by mistake (its history keeps it)."""
    if request.method == "POST":
        services.delete(measurement, request.user)
        return HttpResponseRedirect(back + f"#indicator-{measurement.indicator_id}")
    return render(request, "strategy/delete.html", {"measurement": measurement, "back": back})


@never_cache
@require(roles.can_import_measurements)
@require_http_methods(["GET", "POST"])
def measurement_import(request: HttpRequest) -> HttpResponse:
    """Measurements from a CSV or XLSX file (as ``tryg indicator import``): all or nothing,
    every problem named by file, row and column; a partner only for its own initiatives."""
    form = forms.MeasurementUploadForm(request.POST or None, request.FILES or None)
    problems: list[Any] = []
    done = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size is not None and upload.size > max_upload_bytes():
                form.add_error("file", _("The file is larger than %(mb)s MB.")
                               % {"mb": max_upload_bytes() // (1024 * 1024)})
                status = 413
            else:
                try:
                    done = measurement_import_service.import_upload(upload, user=request.user)
                except InputError as exc:
                    problems = localized_all(exc.problems)
                    status = 400
                finally:
                    upload.close()
        else:
            status = 400
    indicators = [i for i in Indicator.objects.filter(source=Indicator.Source.MANUAL)
                  .select_related("initiative__focus_area__strategy")
                  .prefetch_related("initiative__owners")
                  .order_by("initiative__focus_area__strategy_id", "initiative_id", "order", "id")
                  if roles.can_enter_measurements(request.user, i.initiative)]
    return render(request, "strategy/measurement_import.html", {
        "form": form, "problems": problems, "done": done, "indicators": indicators},
        status=status)
