"""Strategy templates: a strategy's focus areas, initiatives and indicator definitions (no
measurements, no people) as a versioned, documented YAML file, exported and imported.

The format is described by the JSON Schema shipped beside the templates
(``template_files/strategy-template.schema.json``). The file is read with PyYAML's composer,
which keeps where every node starts, and checked against the schema by :func:`validate` (the
subset of JSON Schema the schema uses), so every problem names its LINE. Import then maps the
template's area codes (to this installation's codes: the same code, or one given in
``area_map``) and organisations (by name, or ``organisation_map``; created when
``create_organisations``); everything that cannot be mapped is listed, and nothing is written
unless everything is (one transaction).

Export is deterministic (fixed order, fixed header, no dates of export), so an exported file
imported into an empty installation exports to the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml
from django.db import transaction
from django.utils.text import slugify

from tryg import bounds
from tryg.accounts.models import Organisation
from tryg.index.inputs import InputError
from tryg.readers.text import WINDOWS_1252, decode
from tryg.strategy import measures, services
from tryg.strategy.models import (
    ChangeRecord,
    FocusArea,
    Indicator,
    Initiative,
    Strategy,
    Target,
)

#: How the encodings :func:`template_text` may use are named to a user.
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-16": "UTF-16", WINDOWS_1252: "Windows-1252"}

VERSION = 1
SCHEMA_FILE = "strategy-template.schema.json"
HEADER = """\
# A tryg strategy template (format version 1).
#
# A strategy with its focus areas, initiatives and indicator definitions, without
# measurements or people. Import it with `tryg strategy import FILE` (map area codes with
# --map-area OLD=NEW and organisations with --map-organisation KEY=NAME); the format is
# described by the JSON Schema strategy-template.schema.json shipped with tryg
# (tryg/strategy/template_files/). An indicator with `proposed: true` is tryg's proposal,
# not named by the strategy itself. Sources: index and register take `measure`, the
# measure's id in the index specification (dk-tryghedsindeks); manual indicators are
# measured by the initiative's partners.
"""


class TemplateError(ValueError):
    """Problems of a template, each with its line (1-based; None for the file as a whole)."""

    def __init__(self, source: str, problems: list[tuple[int | None, str]]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda p: (p[0] or 0, p[1]))
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [f"{self.source}, line {line}: {message}" if line else f"{self.source}: {message}"
                for line, message in self.problems]


def schema() -> dict[str, Any]:
    text = resources.files("tryg.strategy").joinpath("template_files", SCHEMA_FILE).read_text(
        encoding="utf-8")
    found: dict[str, Any] = json.loads(text)
    return found


def template_text(data: bytes, source: str) -> tuple[str, str]:
    """A template file's bytes as text, and the encoding used: decoded as the CSV readers
    decode (:func:`tryg.readers.text.decode`: UTF-8, UTF-16 with its mark, else Windows-1252,
    what Notepad and Excel save in Denmark); bytes none of them decodes, or a NUL, are a
    :class:`TemplateError` naming the line."""
    try:
        return decode(data, source, None)
    except InputError as exc:
        # the readers' hint names their encoding= parameter, which a template has not
        raise TemplateError(source, [
            (p.row, p.message.split("; if it was saved as")[0] + "; save it as UTF-8"
             if "not valid" in p.message else p.message) for p in exc.problems]) from None


def shipped(name: str = "tryg-aalborg-2014-17.yaml") -> str:
    """The text of a template shipped with tryg."""
    return resources.files("tryg.strategy").joinpath("template_files", name).read_text(
        encoding="utf-8")


# -- reading, with lines ------------------------------------------------------------------------


@dataclass
class Located:
    """A value from the file with the line it starts on (mappings and sequences hold
    Located values)."""

    value: Any
    line: int


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class _AliasError(ValueError):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str, line: int, first: int) -> None:
        super().__init__(key)
        self.key, self.line, self.first = key, line, first


def _convert(node: yaml.Node, seen: set[int] | None = None) -> Located:
    """The node as Located values. A node met twice is an alias (``*name``): refused, as a
    template needs none and aliases of aliases can blow a small file up exponentially."""
    seen = set() if seen is None else seen
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        if id(node) in seen:
            raise _AliasError(line)
        seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Located] = {}
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in lines:  # YAML keeps the last silently: a list written twice is lost
                raise _DuplicateKeyError(key, key_node.start_mark.line + 1, lines[key])
            lines[key] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, seen)
        return Located(_KeyedDict(out, {str(k.value): k.start_mark.line + 1
                                        for k, _v in node.value}), line)
    if isinstance(node, yaml.SequenceNode):
        return Located([_convert(item, seen) for item in node.value], line)
    assert isinstance(node, yaml.ScalarNode)
    return Located(_scalar(node), line)


class _KeyedDict(dict[str, Located]):
    """A mapping that remembers the line of each key."""

    def __init__(self, values: dict[str, Located], key_lines: dict[str, int]) -> None:
        super().__init__(values)
        self.key_lines = key_lines


def _scalar(node: yaml.ScalarNode) -> Any:
    tag = node.tag
    text = node.value
    if tag.endswith(":null"):
        return None
    if tag.endswith(":bool"):
        return text.lower() in ("true", "yes", "on")
    # YAML 1.1 numbers Python does not read (1:30 in base 60, .inf, .nan) or that are not
    # finite stay text: the schema check then says a number was expected, on their line.
    if tag.endswith(":int"):
        digits = text.replace("_", "")
        try:
            return int(digits, 10)
        except ValueError:
            try:
                return int(digits, 0)
            except ValueError:
                return text
    if tag.endswith(":float"):
        try:
            number = float(text.replace("_", ""))
        except ValueError:
            return text
        return number if math.isfinite(number) else text
    return text  # str and timestamps stay text (dates are checked as "YYYY-MM-DD")


#: The largest template read (characters): a strategy of hundreds of initiatives is far less.
MAX_CHARACTERS = 5_000_000


def parse(text: str, source: str) -> Located:
    if len(text) > MAX_CHARACTERS:
        raise TemplateError(source, [(None, f"the file is larger than {MAX_CHARACTERS:,} "
                                            "characters; a template is far smaller")])
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise TemplateError(source, [(mark.line + 1 if mark else None,
                                      f"not valid YAML: {exc.problem}")]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML forbids, by its position
        line = text.count("\n", 0, exc.position) + 1
        found = chr(exc.character) if isinstance(exc.character, int) else ""
        character = bounds.control_character(found)
        problem = (f"the line holds an invisible control character ({character}), which "
                   "cannot be stored" if character is not None
                   else f"not valid YAML: the character {found!r} is not allowed")
        raise TemplateError(source, [(line, problem)]) from None
    except yaml.YAMLError as exc:
        raise TemplateError(source, [(None, f"not valid YAML: {exc}")]) from None
    if node is None:
        raise TemplateError(source, [(None, "the file is empty")])
    try:
        return _convert(node)
    except _AliasError as exc:
        raise TemplateError(source, [(exc.line, "this value is used again through an alias "
                                                "(*name); aliases are not allowed in a "
                                                "template: write the values out")]) from None
    except _DuplicateKeyError as exc:
        raise TemplateError(source, [(exc.line, f"the key {exc.key!r} is given twice in one "
                                                f"mapping (first on line {exc.first})")]
                            ) from None


# -- checking against the schema ------------------------------------------------------------------


def validate(doc: Located, schema_: Mapping[str, Any]) -> list[tuple[int | None, str]]:
    """Problems of ``doc`` under the JSON Schema ``schema_`` (the keywords it uses: type,
    properties, required, additionalProperties, items, enum, minLength, maxLength, pattern,
    format "date", $ref to #/$defs)."""
    problems: list[tuple[int | None, str]] = []
    defs = schema_.get("$defs", {})

    def resolve(s: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in s:
            s = defs[s["$ref"].rsplit("/", 1)[-1]]
        return s

    def check(node: Located, s: Mapping[str, Any], where: str) -> None:
        s = resolve(s)
        value, line = node.value, node.line
        kind = s.get("type")
        if kind == "object":
            if not isinstance(value, dict):
                problems.append((line, f"{where} must be a mapping (key: value)"))
                return
            key_lines = getattr(value, "key_lines", {})
            props = s.get("properties", {})
            for key in s.get("required", []):
                if key not in value:
                    problems.append((line, f"{where} lacks the required key {key!r}"))
            for key, child in value.items():
                if key not in props:
                    if s.get("additionalProperties", True) is False:
                        known = ", ".join(props)
                        problems.append((key_lines.get(key, child.line),
                                         f"unknown key {key!r} in {where} (known: {known})"))
                    continue
                check(child, props[key], f"{where}.{key}" if where else key)
            return
        if kind == "array":
            if not isinstance(value, list):
                problems.append((line, f"{where} must be a list"))
                return
            for i, item in enumerate(value):
                check(item, s.get("items", {}), f"{where}[{i + 1}]")
            return
        if kind == "string":
            if not isinstance(value, str):
                problems.append((line, f"{where} must be text"))
                return
            # a "\0" or "\e" in double quotes (the stream itself may hold none): refused as
            # the forms refuse it, and PostgreSQL refuses a NUL in text
            character = bounds.control_character(value)
            if character is not None:
                problems.append((line, f"{where} holds an invisible control character "
                                       f"({character}), which cannot be stored"))
            if len(value) < s.get("minLength", 0):
                problems.append((line, f"{where} must not be empty"))
            if "maxLength" in s and len(value) > s["maxLength"]:
                problems.append((line, f"{where} is longer than {s['maxLength']} characters"))
            if "pattern" in s and not re.search(s["pattern"], value):
                problems.append((line, f"{where} {value!r} does not match {s['pattern']}"))
            if s.get("format") == "date":
                try:
                    if not _DATE.fullmatch(value):
                        raise ValueError(value)
                    dt.date.fromisoformat(value)
                except ValueError:
                    problems.append((line, f"{where} {value!r} is not a date such as "
                                           "'2014-01-01'"))
        elif kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                problems.append((line, f"{where} must be a whole number"))
                return
        elif kind == "number":
            if not isinstance(value, int | float) or isinstance(value, bool):
                problems.append((line, f"{where} must be a number"))
                return
        elif kind == "boolean" and not isinstance(value, bool):
            problems.append((line, f"{where} must be true or false"))
            return
        if "enum" in s and value not in s["enum"]:
            allowed = ", ".join(str(v) for v in s["enum"])
            problems.append((line, f"{where} {value!r} is not one of: {allowed}"))

    check(doc, schema_, "")
    return problems


def plain(node: Located) -> Any:
    """The value without lines."""
    if isinstance(node.value, dict):
        return {k: plain(v) for k, v in node.value.items()}
    if isinstance(node.value, list):
        return [plain(v) for v in node.value]
    return node.value


# -- importing ----------------------------------------------------------------------------------


@dataclass
class ImportResult:
    strategy: Strategy
    created_organisations: list[str] = field(default_factory=list)
    area_map: dict[str, str] = field(default_factory=dict)


def import_template(text: str, *, source: str = "template", user: Any = None,
                    area_map: Mapping[str, str] | None = None,
                    organisation_map: Mapping[str, str] | None = None,
                    create_organisations: bool = False,
                    known_areas: set[str] | None = None) -> ImportResult:
    """Import a template (see the module docstring); :class:`TemplateError` lists every
    problem with its line, and then nothing is written."""
    doc = parse(text, source)
    problems = validate(doc, schema())
    if problems:
        raise TemplateError(source, problems)
    root: dict[str, Located] = doc.value
    area_map = dict(area_map or {})
    organisation_map = dict(organisation_map or {})
    if known_areas is None:
        from tryg.areas.models import Area

        known_areas = set(Area.objects.values_list("code", flat=True))

    # areas: every code used must be declared and map to a known code
    declared = {plain(a)["code"]: a.line for a in root["areas"].value}
    codes: dict[str, str] = {}
    for code, line in declared.items():
        target = area_map.get(code, code)
        if target not in known_areas:
            unknown = f" ({target!r} is unknown)" if target != code else ""
            problems.append((line, f"the area code {code!r} does not map to an area of this "
                                   f"installation{unknown}; give --map-area CODE=CODE"))
        codes[code] = target
    # organisations
    orgs: dict[str, tuple[str, str]] = {}
    existing = {o.name: o for o in Organisation.objects.all()}
    for node in root["organisations"].value:
        o = plain(node)
        name = organisation_map.get(o["key"], o["name"])
        if name not in existing and not create_organisations:
            problems.append((node.line, f"the organisation {o['name']!r} ({o['key']}) does not "
                                        "map to an organisation of this installation; give "
                                        "--map-organisation KEY=NAME or create it"))
        orgs[o["key"]] = (name, o["kind"])

    def check_keys(node: Located | None, known: Mapping[str, Any], what: str) -> None:
        for item in (node.value if node is not None else []):
            if item.value not in known:
                listed = "organisations" if what == "organisation" else "areas"
                problems.append((item.line, f"{what} {item.value!r} is not declared in "
                                            f"{listed}"))

    known_measures = measures.known_measures()
    check_keys(root.get("partners"), orgs, "organisation")
    for fa in root["focus_areas"].value:
        for ini in fa.value["initiatives"].value:
            check_keys(ini.value.get("owners"), orgs, "organisation")
            check_keys(ini.value.get("areas"), declared, "area")
            for ind in ini.value["indicators"].value:
                data = ind.value
                source_kind = data["source"].value
                if source_kind in ("index", "register"):
                    measure = data.get("measure")
                    if measure is None:
                        problems.append((ind.line, "an index or register indicator names its "
                                                   "measure"))
                    elif measure.value not in known_measures:
                        problems.append((measure.line, f"unknown measure {measure.value!r} "
                                                       "(not in the shipped index "
                                                       "specifications nor those of the "
                                                       "stored runs)"))
                if "area" in data:
                    check_keys(Located([data["area"]], data["area"].line), declared, "area")
                for target in (data["targets"].value if "targets" in data else []):
                    problems.extend(_target_problems(target.value))
    if problems:
        raise TemplateError(source, problems)
    return _write(plain(doc), codes, orgs, user)


def _target_problems(target: Mapping[str, Located]) -> list[tuple[int | None, str]]:
    """A target's date and value within :mod:`tryg.bounds` (the schema has checked
    that they are a date and a number)."""
    found: list[tuple[int | None, str]] = []
    when, value = target["date"], target["value"]
    problem = bounds.date_problem(dt.date.fromisoformat(when.value))
    if problem is not None:
        found.append((when.line, f"the target's date {when.value!r} {problem}"))
    problem = bounds.number_problem(float(value.value))
    if problem is not None:
        found.append((value.line, f"the target's value {value.value!r} {problem}"))
    return found


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _write(doc: dict[str, Any], codes: dict[str, str], orgs: dict[str, tuple[str, str]],
           user: Any) -> ImportResult:
    imported = ChangeRecord.Action.IMPORT
    created: list[str] = []
    with transaction.atomic():
        organisations: dict[str, Organisation] = {}
        for key, (name, kind) in orgs.items():
            org = Organisation.objects.filter(name=name).first()
            if org is None:
                org = Organisation.objects.create(name=name, kind=kind)
                created.append(name)
            organisations[key] = org
        period = doc["period"]
        strategy = Strategy(name=doc["name"], description=doc.get("description", ""),
                            status=doc.get("status", Strategy.Status.DRAFT),
                            period_start=dt.date.fromisoformat(period["start"]),
                            period_end=_date(period.get("end")))
        services.save(strategy, user, action=imported,
                      m2m={"partners": [organisations[k] for k in doc.get("partners", [])]})
        for fa_order, fa in enumerate(doc["focus_areas"], 1):
            focus = FocusArea(strategy=strategy, name=fa["name"],
                              description=fa.get("description", ""), order=fa_order)
            services.save(focus, user, action=imported)
            for i_order, ini in enumerate(fa["initiatives"], 1):
                p = ini.get("period", {})
                initiative = Initiative(
                    focus_area=focus, name=ini["name"], description=ini.get("description", ""),
                    public_summary=ini.get("public_summary", ""), order=i_order,
                    period_start=_date(p.get("start")), period_end=_date(p.get("end")),
                    links="\n".join(f"{link['title']} | {link['url']}" if link.get("title")
                                    else link["url"] for link in ini.get("links", [])))
                services.save(initiative, user, action=imported,
                              m2m={"owners": [organisations[k] for k in ini.get("owners", [])]},
                              areas=[codes[c] for c in ini.get("areas", [])])
                for n_order, ind in enumerate(ini["indicators"], 1):
                    indicator = Indicator(
                        initiative=initiative, name=ind["name"],
                        definition=ind.get("definition", ""), unit=ind["unit"],
                        polarity=ind.get("polarity", "up"),
                        frequency=ind.get("frequency", "annual"), source=ind["source"],
                        measure_id=ind.get("measure", ""),
                        area_code=codes[ind["area"]] if ind.get("area") else "",
                        plugin=ind.get("plugin", ""), proposed=ind.get("proposed", False),
                        order=n_order)
                    services.save(indicator, user, action=imported)
                    for t in ind.get("targets", []):
                        services.save(Target(indicator=indicator,
                                             when=dt.date.fromisoformat(t["date"]),
                                             value=float(t["value"])), user, action=imported)
    return ImportResult(strategy, created, dict(codes))


# -- exporting ----------------------------------------------------------------------------------


def _period(start: dt.date | None, end: dt.date | None) -> dict[str, str]:
    out = {}
    if start is not None:
        out["start"] = start.isoformat()
    if end is not None:
        out["end"] = end.isoformat()
    return out


def export_data(strategy: Strategy) -> dict[str, Any]:
    """The template of ``strategy`` as plain data (keys in the documented order)."""
    from tryg.areas.models import Area

    initiatives = list(Initiative.objects.filter(focus_area__strategy=strategy)
                       .order_by("order", "id").prefetch_related(
                           "owners", "areas", "indicators__targets"))
    orgs: dict[int, Organisation] = {o.pk: o for o in strategy.partners.all()}
    used_codes: set[str] = set()
    for ini in initiatives:
        orgs.update({o.pk: o for o in ini.owners.all()})
        used_codes.update(a.code for a in ini.areas.all())
        used_codes.update(i.area_code for i in ini.indicators.all() if i.area_code)
    keys = {pk: slugify(o.name) or f"org-{pk}" for pk, o in orgs.items()}
    names = dict(Area.objects.filter(code__in=used_codes).values_list("code", "name"))
    focus: list[dict[str, Any]] = []
    for fa in strategy.focus_areas.order_by("order", "id"):
        items = []
        for ini in (i for i in initiatives if i.focus_area_id == fa.pk):
            entry: dict[str, Any] = {"name": ini.name}
            if ini.description:
                entry["description"] = ini.description
            if ini.public_summary:
                entry["public_summary"] = ini.public_summary
            entry["owners"] = sorted(keys[o.pk] for o in ini.owners.all())
            entry["areas"] = sorted(a.code for a in ini.areas.all())
            period = _period(ini.period_start, ini.period_end)
            if period:
                entry["period"] = period
            links = [{"title": t, "url": u} if t != u else {"url": u}
                     for t, u in ini.link_list()]
            if links:
                entry["links"] = links
            entry["indicators"] = [_indicator(i) for i in
                                   sorted(ini.indicators.all(), key=lambda i: (i.order, i.pk))]
            items.append(entry)
        block: dict[str, Any] = {"name": fa.name}
        if fa.description:
            block["description"] = fa.description
        block["initiatives"] = items
        focus.append(block)
    doc: dict[str, Any] = {"tryg_strategy_template": VERSION, "name": strategy.name}
    if strategy.description:
        doc["description"] = strategy.description
    doc["status"] = strategy.status
    doc["period"] = _period(strategy.period_start, strategy.period_end)
    doc["partners"] = sorted(keys[o.pk] for o in strategy.partners.all())
    doc["organisations"] = [{"key": keys[pk], "name": o.name, "kind": o.kind}
                            for pk, o in sorted(orgs.items(), key=lambda kv: keys[kv[0]])]
    doc["areas"] = [{"code": c, "name": names.get(c, c)} for c in sorted(used_codes)]
    doc["focus_areas"] = focus
    return doc


def _indicator(i: Indicator) -> dict[str, Any]:
    out: dict[str, Any] = {"name": i.name}
    if i.definition:
        out["definition"] = i.definition
    out.update({"unit": i.unit, "polarity": i.polarity, "frequency": i.frequency,
                "source": i.source})
    if i.measure_id:
        out["measure"] = i.measure_id
    if i.area_code:
        out["area"] = i.area_code
    if i.plugin:
        out["plugin"] = i.plugin
    out["proposed"] = i.proposed
    targets = sorted(i.targets.all(), key=lambda t: (t.when, t.pk))
    if targets:
        out["targets"] = [{"date": t.when.isoformat(), "value": t.value} for t in targets]
    return out


class _Dumper(yaml.SafeDumper):
    """Quotes text of digits (area codes such as "0851"), which YAML 1.2 readers would
    otherwise take for numbers."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "'" if value.isdigit() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump(doc: dict[str, Any]) -> str:
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100, indent=2)
    return HEADER + body


def export_strategy(strategy: Strategy) -> str:
    return dump(export_data(strategy))
