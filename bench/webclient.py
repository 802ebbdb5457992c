"""What the web client asks the server for when it opens a form.

``form_fields_spec`` (and ``list_fields_spec``, ``kanban_fields_spec``) builds the
``specification`` argument of ``web_read`` from the form view that
``get_views`` returns, following the rules of the web client's relational model
(``getFieldsSpec`` in ``web/static/src/model/relational_model/utils.js``):

- every ``<field>`` of the form itself (fields of embedded sub-views excluded) gets an entry, the
  invisible ones included, plus ``display_name`` for the breadcrumbs;
- a many2one gets ``{"fields": {"display_name": {}}}`` (``{"fields": {}}`` when always
  invisible);
- a visible one2many/many2many with embedded sub-views (``get_views`` embeds the default ones)
  reads the fields of the sub-view the desktop client shows (``mode`` attribute, else the list,
  else the kanban), plus those of the embedded form, with the sub-view's ``limit`` (default 40)
  and ``default_order``; without sub-view but with a widget (``many2many_tags`` ...) it reads
  ``display_name`` and the widget's ``color_field``; otherwise only the ids.

Not reproduced: the ``context`` of each relational field (evaluated by the client from the record)
and the extra related fields some rare widgets declare. Both change what a read costs only
marginally.
"""

import json
import re

from lxml import etree

SUBVIEW_TAGS = ("list", "kanban", "form")
ALWAYS = ("1", "True")
DEFAULT_LIMIT = 40


def form_fields_spec(model, view_id=False):
    """Return the ``web_read`` specification the web client sends to open a form of ``model``."""
    views = model.get_views([(view_id, "form")])
    arch = etree.fromstring(views["views"]["form"]["arch"])
    spec = _view_spec(model, arch)
    spec.setdefault("display_name", {})
    return spec


def list_fields_spec(model, view_id=False):
    """Return the ``web_search_read`` specification the web client sends to show a list of
    ``model`` (the optional columns it hides are read too), and the list's ``default_order``."""
    views = model.get_views([(view_id, "list")])
    arch = etree.fromstring(views["views"]["list"]["arch"])
    order = _order(arch.get("default_order")) if arch.get("default_order") else ""
    return _view_spec(model, arch), order


def kanban_fields_spec(model, view_id=False):
    """Return the ``web_search_read`` specification the web client sends to fill the columns
    of a kanban view of ``model`` (the fields of the card and of its templates), the view's
    ``default_group_by`` and the ``<progressbar>`` attributes (or None)."""
    views = model.get_views([(view_id, "kanban")])
    arch = etree.fromstring(views["views"]["kanban"]["arch"])
    progressbar = arch.find(".//progressbar")
    if progressbar is not None:
        progressbar = {
            "field": progressbar.get("field"),
            "colors": json.loads(progressbar.get("colors") or "{}"),
        }
    return _view_spec(model, arch), arch.get("default_group_by"), progressbar


def _view_spec(model, view_node, invisible_all=False):
    spec = {}
    for node in _own_field_nodes(view_node):
        name = node.get("name")
        if name not in model._fields:
            continue
        invisible = invisible_all or _always_invisible(node)
        _merge(spec, {name: _field_spec(model, model._fields[name], node, invisible)})
    return spec


def _own_field_nodes(node):
    """Field nodes of a view, without descending into the sub-views embedded in a field."""
    for child in node.iterchildren(tag=etree.Element):
        if child.tag == "field":
            yield child
        else:
            yield from _own_field_nodes(child)


def _always_invisible(node):
    return node.get("invisible") in ALWAYS or node.get("column_invisible") in ALWAYS


def _field_spec(model, field, node, invisible):
    if field.type in ("many2one", "reference"):
        return {"fields": {} if invisible else {"display_name": {}}}
    if field.type not in ("one2many", "many2many") or invisible:
        return {}
    comodel = model.env[field.comodel_name]
    subviews = {child.tag: child for child in node.iterchildren(*SUBVIEW_TAGS)}
    mode = _view_mode(node, subviews)
    if mode is None:
        if not node.get("widget"):
            return {}
        fields = {"display_name": {}}
        color_field = re.search(
            r"""['"]color_field['"]\s*:\s*['"](\w+)['"]""", node.get("options", "")
        )
        if color_field:
            fields[color_field.group(1)] = {}
        return {"fields": fields}
    subview = subviews[mode]
    fields = _view_spec(comodel, subview)
    if mode != "form" and "form" in subviews:
        # the client reads the inline form's fields too, as invisible ones
        for name, sub_spec in _view_spec(comodel, subviews["form"], invisible_all=True).items():
            fields.setdefault(name, sub_spec)
    spec = {"fields": fields, "limit": int(subview.get("limit") or DEFAULT_LIMIT)}
    if subview.get("default_order"):
        spec["order"] = _order(subview.get("default_order"))
    return spec


def _view_mode(node, subviews):
    mode = node.get("mode")
    if mode:
        mode = "list" if "," in mode else mode
    elif "list" in subviews:
        mode = "list"
    elif "kanban" in subviews:
        mode = "kanban"
    return mode if mode in subviews else None


def _order(default_order):
    terms = []
    for term in default_order.split(","):
        words = term.split()
        direction = "DESC" if len(words) > 1 and words[1].lower() == "desc" else "ASC"
        terms.append(f"{words[0]} {direction}")
    return ", ".join(terms)


def _merge(spec, other):
    """Merge two specifications, as the client merges the nodes of a field shown twice."""
    for name, value in other.items():
        current = spec.get(name)
        if current is None:
            spec[name] = value
        elif "fields" in value:
            if "fields" in current:
                _merge(current["fields"], value["fields"])
            else:
                current.update(value)
