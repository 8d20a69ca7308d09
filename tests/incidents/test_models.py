"""The incident model: only links to the police's own site are links."""

import pytest

from problembild.incidents.models import Incident


@pytest.mark.parametrize(
    ("stored", "linked"),
    [
        ("/aktuellt/handelser/2024/juni/30/1/", "https://polisen.se/aktuellt/handelser/2024/juni/30/1/"),
        ("https://polisen.se/aktuellt/x/", "https://polisen.se/aktuellt/x/"),
        ("https://www.polisen.se/x", "https://www.polisen.se/x"),
        ("javascript:alert(1)", ""),
        (" JavaScript:alert(1)", ""),
        ("data:text/html,<script>alert(1)</script>", ""),
        ("//evil.example/x", ""),
        ("https://polisen.se.evil.example/x", ""),
        ("http://evil.example/polisen.se", ""),
        ("", ""),
    ],
)
def test_only_http_links_to_the_police_site_are_linked(stored, linked):
    assert Incident(url=stored).full_url == linked
