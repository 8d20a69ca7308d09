"""Property-based API tests: no generated request may cause a server error."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

from problembild.core.models import ApiToken

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def token(make_user):
    from problembild.core import roles

    user = make_user("schemathesis", roles.LOCAL_CHIEF, "5312-botkyrka")
    return ApiToken.issue(user)[1]


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_api_never_answers_with_a_server_error(case, token):
    from schemathesis.checks import not_a_server_error

    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])
