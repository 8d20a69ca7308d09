"""No value of a page's query parameters may cause a server error (issue 9, item 6).

Each page's parameters come from its FilterSet (and the few it reads besides); Hypothesis
sends them random text, dates far in the future or the past, impossible dates and numbers.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from problembild.areas.models import Area
from problembild.core.filtersets import AccessLogFilterSet
from problembild.incidents.filtersets import FeedFilterSet
from problembild.picture.filtersets import IndicatorFilterSet, OverviewFilterSet

pytestmark = pytest.mark.django_db

PAGES = {
    "/": [*OverviewFilterSet.base_filters],
    "/export/overview.csv": [*OverviewFilterSet.base_filters, "reason", "recipient"],
    "/feed/": [*FeedFilterSet.base_filters],
    "/feed/export.csv": [*FeedFilterSet.base_filters, "table", "reason", "recipient"],
    "/units/SE/": [*IndicatorFilterSet.base_filters],
    "/access-log/": [*AccessLogFilterSet.base_filters, "page"],
    "/areas/{id}/export.csv": ["table", "reason", "recipient"],
}
VALUES = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["9999-12-31", "0001-01-01", "2024-02-30", "2024-13-01", "-1", "1e309", "2024", "nan"]),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.dates().map(lambda d: d.isoformat()),
)


@pytest.mark.parametrize("url", sorted(PAGES))
def test_no_query_value_causes_a_server_error(client_for, admin_user_pb, url):
    client = client_for(admin_user_pb)
    alby = Area.objects.get(name="Alby")
    path = url.format(id=alby.panel_id)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(st.sampled_from(PAGES[url]), VALUES, max_size=4))
    def check(params):
        response = client.get(path, {k: v.replace("\x00", "") for k, v in params.items()})
        assert response.status_code < 500, (path, params)

    check()


@pytest.mark.parametrize(
    "query",
    ["to=9999-12-31", "from=0001-01-01", "from=2024-02-30", "to=2024-13-45", "year=99999"],
)
def test_impossible_dates_are_form_errors_on_the_feed(client_for, analyst, query):
    response = client_for(analyst).get(f"/feed/?{query}")
    assert response.status_code == 200
    assert query.split("=")[0] + "=" in response.content.decode()  # named among the refused values


def test_impossible_dates_are_form_errors_on_the_access_log(client_for, auditor):
    response = client_for(auditor).get("/access-log/?from=2024-02-30&to=9999-12-31")
    html = response.content.decode()
    assert response.status_code == 200 and "from=2024-02-30" in html and "to=9999-12-31" in html
