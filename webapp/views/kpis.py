"""The partnership's KPI dashboard, the rows behind each figure, and its exports.

Admins see everything; a partner manager sees the partnership's totals beside their own
clusters' figures, breakdowns and detail rows of their own clusters only
(`access.kpi_clusters_of`). The period is read from the query string: a bookmarkable
page, and a period whose end is before its start is refused with a message. The printable
report and the tables' exports are built in the background (`services.downloads`): their
GET URLs show a page with the button that starts one (a POST), which leads to its
progress page.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, http_cache, inputs
from ..forms.kpis import PeriodForm
from ..ids import parse_id
from ..services import downloads, kpis
from ..services.fields import Refused
from .downloads import started

bp = Blueprint("kpis", __name__, url_prefix="/kpis")

TABLE_NAMES = ("kpis", *kpis.BREAKDOWNS, "agreements")
FILTER_ARGS = (("year", int), ("event", int), ("country", str), ("cluster", int))


def _asked_period() -> tuple[PeriodForm, kpis.Period | None]:
    """The period the query string asks for, or None with the form's errors set."""
    form = PeriodForm(request.args)
    if not form.validate():
        return form, None
    try:
        return form, kpis.Period(form.start.data, form.end.data)
    except Refused as refusal:
        form.end.errors = [*form.end.errors, refusal.message]
        return form, None


def _clusters():
    """The viewer's scope: None for the whole partnership, else their clusters."""
    return access.kpi_clusters_of(current_user)


def _report(period: kpis.Period) -> kpis.Report:
    """The dashboard's (and the PDF's) content in the user's scope."""
    return kpis.report(period, _clusters())


def _period_args(period: kpis.Period) -> dict:
    return {k: v.isoformat() for k, v in (("start", period.start), ("end", period.end)) if v}


def _refused(form: PeriodForm):
    return render_template("kpis/dashboard.html", form=form, period=None), 400


@bp.get("/", endpoint="dashboard")
@access.requires("kpi.view")
@http_cache.kept_for_user
def dashboard():
    form, period = _asked_period()
    if period is None:
        return _refused(form)
    content = _report(period)
    args = _period_args(period)

    def figure_url(figure: str, filters: kpis.Filters | None = None) -> str:
        return url_for("kpis.rows", figure=figure, **args,
                       **(filters.params() if filters else {}))

    return render_template("kpis/dashboard.html", form=form, period=period, report=content,
                           args=args, figure_url=figure_url, labels=kpis.FIGURE_LABELS,
                           figures=kpis.FIGURES)


def _filters() -> kpis.Filters | None:
    values = {}
    for name, convert in FILTER_ARGS:
        raw = request.args.get(name)
        if raw in (None, ""):
            continue
        # Years and ids beyond what a database integer holds name nothing.
        values[name] = parse_id(raw) if convert is int else raw
        if values[name] is None:
            return None
    return kpis.Filters(year=values.get("year"), event_id=values.get("event"),
                        country=values.get("country"), cluster_id=values.get("cluster"))


@bp.get("/rows/<figure>", endpoint="rows")
@access.requires("kpi.view")
def figure_rows(figure: str):
    if figure not in kpis.FIGURES:
        abort(404)
    form, period = _asked_period()
    if period is None:
        return _refused(form)
    filters = _filters()
    if filters is None:
        return render_template("kpis/rows.html", figure=figure, label=kpis.FIGURE_LABELS[figure],
                               rows=None, form=form, args=_period_args(period),
                               message=_("This filter is not valid: follow a figure's "
                                         "link from the dashboard.")), 400
    clusters = _clusters()
    rows = kpis.detail_rows(figure, period, filters, clusters)
    return render_template("kpis/rows.html", figure=figure, label=kpis.FIGURE_LABELS[figure],
                           rows=rows, period=period, filters=filters,
                           scope_label=kpis.scope_label(clusters),
                           narrowed=clusters is not None, args=_period_args(period), form=form,
                           message=None)


def _start_page(title: str, action: str):
    """The page that offers to build a file in the background: a GET starts nothing."""
    return render_template("downloads/start.html", title=title, action=action,
                           back=url_for("kpis.dashboard", **request.args))


def _table_asked(name: str, fmt: str) -> None:
    if name not in TABLE_NAMES or fmt not in ("csv", "xlsx"):
        abort(404)


@bp.get("/tables/<name>.<fmt>", endpoint="table_export")
@access.requires("kpi.view")
def table_export(name: str, fmt: str):
    """A table's export is built in the background: this page offers to start it."""
    _table_asked(name, fmt)
    form, period = _asked_period()
    if period is None:
        return _refused(form)
    return _start_page(_("KPI table “%(name)s” (%(format)s), %(period)s", name=name,
                         format=fmt.upper(), period=period.label()),
                       url_for("kpis.request_table", name=name, fmt=fmt,
                               **_period_args(period)))


@bp.post("/tables/<name>.<fmt>", endpoint="request_table")
@access.requires("kpi.view")
@inputs.takes(inputs.NoInput)
def request_table(name: str, fmt: str):
    _table_asked(name, fmt)
    form, period = _asked_period()
    if period is None:
        return _refused(form)
    download, joined = downloads.request_kpi_table(current_user._get_current_object(), name,
                                                   fmt, period, _clusters())
    return started(download, joined)


@bp.get("/report.pdf", endpoint="report_pdf")
@access.requires("kpi.view")
def report_pdf():
    """The printable report is built in the background: this page offers to start it."""
    form, period = _asked_period()
    if period is None:
        return _refused(form)
    return _start_page(_("KPI report, %(period)s", period=period.label()),
                       url_for("kpis.request_report", **_period_args(period)))


@bp.post("/report.pdf", endpoint="request_report")
@access.requires("kpi.view")
@inputs.takes(inputs.NoInput)
def request_report():
    form, period = _asked_period()
    if period is None:
        return _refused(form)
    download, joined = downloads.request_kpi_report(current_user._get_current_object(),
                                                    period, _clusters())
    return started(download, joined)
