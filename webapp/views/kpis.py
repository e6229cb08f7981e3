"""The partnership's KPI dashboard, the rows behind each figure, and its exports.

Admins see everything; a partner manager sees the partnership's totals beside their own
clusters' figures, breakdowns and detail rows of their own clusters only
(`access.kpi_clusters_of`). The period is read from the query string: a bookmarkable
page, and a period whose end is before its start is refused with a message.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import access
from ..forms.kpis import PeriodForm
from ..ids import parse_id
from ..services import exports, kpis
from ..services.fields import Refused
from . import private_download

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


@bp.get("/tables/<name>.<fmt>", endpoint="table_export")
@access.requires("kpi.view")
def table_export(name: str, fmt: str):
    if name not in TABLE_NAMES or fmt not in ("csv", "xlsx"):
        abort(404)
    form, period = _asked_period()
    if period is None:
        return _refused(form)
    table = kpis.table(name, period, _clusters())
    stem = f"kpis-{name}-{period.start or 'start'}-{period.end or 'now'}"
    if fmt == "csv":
        return private_download(exports.csv_bytes(table.header, table.rows),
                                exports.CSV_MIMETYPE, f"{stem}.csv")
    return private_download(exports.xlsx_bytes(table.header, table.rows, title=table.title),
                            exports.XLSX_MIMETYPE, f"{stem}.xlsx")


@bp.get("/report.pdf", endpoint="report_pdf")
@access.requires("kpi.view")
def report_pdf():
    form, period = _asked_period()
    if period is None:
        return _refused(form)
    content = _report(period)
    stem = f"kpi-report-{period.start or 'start'}-{period.end or 'now'}"
    return private_download(kpis.render_report_pdf(content), "application/pdf", f"{stem}.pdf")
