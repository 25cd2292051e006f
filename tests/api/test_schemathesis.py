"""Property-based checks of the whole API against its own OpenAPI schema: with a partner's API
key, no request the schema allows may get a 5xx, and every response must match the schema.
Runs schemathesis's strategies through hypothesis directly (its pytest plugin does not load
under pytest 9), a bounded number of examples per operation."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from .test_read_api import key_for

EXAMPLES_PER_OPERATION = 12
# What the contract promises: no 5xx, and status, content type and body as documented.
# (Not "schema-valid input is always accepted": a lot in the wrong state is a documented 409.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.mark.django_db(transaction=True)
def test_every_operation_keeps_its_contract(chain, pickup):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    headers = {"Authorization": f"Api-Key {key_for(chain.source)}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(
                headers={**headers, "Idempotency-Key": str(id(case))}, checks=CHECKS
            )

        check()
