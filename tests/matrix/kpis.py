"""The KPI dashboard, its detail rows and exports: admins and partner managers (each sees
their own clusters' rows, `tests/test_kpis.py`); members and hosts 403. The report and the
tables' files are built in the background: their GET URLs show the button that starts
one (tests/matrix/downloads.py has the files themselves)."""

from __future__ import annotations

from tests.matrix import LOGIN, Case, statuses


def managers(status):
    return statuses(403, anonymous=LOGIN, manager_a=status, manager_b=status,
                    organizer=status, admin=status)


CASES = [
    Case("kpis.dashboard", "all time", "GET", lambda w: "/kpis/", managers(200)),
    Case("kpis.dashboard", "end before start", "GET",
         lambda w: "/kpis/?start=2019-12-31&end=2018-01-01", managers(400)),
    Case("kpis.dashboard", "not a date", "GET", lambda w: "/kpis/?start=yesterday",
         managers(400)),
    Case("kpis.rows", "SMEs of a year", "GET", lambda w: "/kpis/rows/smes?year=2019",
         managers(200)),
    Case("kpis.rows", "agreements of a cluster", "GET",
         lambda w: f"/kpis/rows/partnership_agreements?cluster={w.ids['cluster_a']}",
         managers(200)),
    Case("kpis.rows", "unknown figure", "GET", lambda w: "/kpis/rows/happiness",
         managers(404)),
    Case("kpis.rows", "tampered filter", "GET", lambda w: "/kpis/rows/delegates?event=x",
         managers(400)),
    Case("kpis.table_export", "CSV", "GET", lambda w: "/kpis/tables/by_cluster.csv",
         managers(200)),
    Case("kpis.table_export", "XLSX", "GET", lambda w: "/kpis/tables/kpis.xlsx",
         managers(200)),
    Case("kpis.table_export", "unknown table", "GET", lambda w: "/kpis/tables/users.csv",
         managers(404)),
    Case("kpis.report_pdf", "end before start", "GET",
         lambda w: "/kpis/report.pdf?start=2020-01-02&end=2020-01-01", managers(400)),
    Case("kpis.report_pdf", "a year", "GET",
         lambda w: "/kpis/report.pdf?start=2019-01-01&end=2019-12-31", managers(200)),
    # Built in the background: the POST leads to the download's page.
    Case("kpis.request_report", "a year", "POST",
         lambda w: "/kpis/report.pdf?start=2019-01-01&end=2019-12-31", managers(303)),
    Case("kpis.request_report", "end before start", "POST",
         lambda w: "/kpis/report.pdf?start=2020-01-02&end=2020-01-01", managers(400)),
    Case("kpis.request_table", "CSV", "POST", lambda w: "/kpis/tables/by_cluster.csv",
         managers(303)),
    Case("kpis.request_table", "unknown table", "POST", lambda w: "/kpis/tables/users.xlsx",
         managers(404)),
]
