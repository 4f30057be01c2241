"""Property-based fuzzing of the HTTP API with schemathesis, from its own /openapi.json: no 5xx, ever."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from likeness.web.app import ServeConfig
from likeness.web.uploads import Limits

pytestmark = pytest.mark.slow  # end to end: `make test` runs it, `make test-fast` does not


def test_no_server_errors_on_any_operation(serving):
    with serving(ServeConfig(limits=Limits(max_bytes=2**20), workers=0, max_pending=10_000)) as (url, _):
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        operations = [r.ok() for r in schema.get_all_operations()]
        assert len(operations) >= 8
        seen: dict[str, set[int]] = {}
        for op in operations:
            @given(case=op.as_strategy())
            @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def no_5xx(case):
                response = case.call()
                seen.setdefault(op.label, set()).add(response.status_code)
                assert response.status_code < 500, (op.label, response.status_code, response.text[:200])
            no_5xx()
        assert len(seen) == len(operations)
