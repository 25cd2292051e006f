"""Hostile input gets a 4xx problem document naming the field, never a 500, and writes nothing:
JSON nested a thousand deep, counts beyond their column, times whose UTC value overflows, NUL
bytes, mass text that only Decimal() reads, bodies over API_MAX_BODY_BYTES (chunked or not),
the TRACE method, forged cursors, writes to a path without its trailing slash."""

import base64
import io
import json
import uuid

import pytest
from django.http import HttpResponse
from django.urls import path

from custody.api import errors
from custody.models import CustodyEvent, Lot
from custody.services.validation import MAX_DEPTH

from .test_read_api import PROBLEM
from .test_write_api import keyed, pickup_body, post

ITEMS = "/api/v1/lots/"


def reads_its_body(request):
    return HttpResponse(str(len(request.body)))


# For the one test marked with these urls: a view that reads its body whole, as Django's forms do.
urlpatterns = [path("api/v1/body/", reads_its_body)]
handler400 = errors.bad_request


def problem_at(response, status: int, field: str | None, code: str | None = None) -> dict:
    """The response is a problem document with ``status``, naming ``field`` (with ``code``)."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    if code is not None:
        assert code in [body["code"], *(error["code"] for error in body.get("errors", []))], body
    return body


def raw_post(client, url, text, content_type="application/json", **extra):
    return client.generic(
        "POST",
        url,
        text,
        content_type=content_type,
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        **extra,
    )


def nested_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


class TestDepth:
    @pytest.mark.parametrize(
        ("text", "field"),
        [
            ("[" * 5000 + "]" * 5000, "[0]" * MAX_DEPTH),
            ("[" * 100_000, "[0]" * MAX_DEPTH),  # never closed: no parser may recurse into it
            ('{"facility": ' + nested_object(900) + "}", "facility" + ".a" * (MAX_DEPTH - 1)),
        ],
    )
    def test_a_body_nested_deeper_than_the_limit_is_refused_where_it_gets_too_deep(
        self, chain, text, field
    ):
        response = raw_post(keyed(chain.source), ITEMS, text)
        body = problem_at(response, 422, field, "too_deep")
        assert body["code"] == "too_deep"
        assert not Lot.objects.exists()

    def test_a_correction_nested_too_deep_is_refused_alone_and_in_a_batch(self, chain, pickup):
        source = keyed(chain.source)
        wrong = pickup.events.get().uuid
        body = f'{{"corrects": "{wrong}", "reason": "typo", "corrections": {nested_object(900)}}}'
        alone = raw_post(source, f"{ITEMS}{pickup.code}/correct/", body)
        problem_at(alone, 422, "corrections" + ".a" * (MAX_DEPTH - 1), "too_deep")
        item = body[:-1] + f', "lot": "{pickup.code}", "action": "correct"}}'
        batch = raw_post(source, "/api/v1/events/", f'{{"events": [{item}]}}')
        problem_at(batch, 422, "events[0].corrections" + ".a" * (MAX_DEPTH - 3), "too_deep")
        assert pickup.events.count() == 1

    def test_a_correction_nested_within_the_limit_is_parsed_then_judged_by_its_fields(
        self, chain, pickup
    ):
        wrong = pickup.events.get().uuid
        body = (
            f'{{"corrects": "{wrong}", "reason": "typo", '
            f'"corrections": {nested_object(MAX_DEPTH - 1)}}}'
        )
        response = raw_post(keyed(chain.source), f"{ITEMS}{pickup.code}/correct/", body)
        problem_at(response, 422, "corrections.a", "unknown_correction_field")
        assert pickup.events.count() == 1

    def test_brackets_and_escaped_quotes_inside_strings_are_not_nesting(self, chain):
        note = '[{[{"\\\\' * 50 + '\\"' + "[" * 100
        body = pickup_body(chain, external_ref="x" * 100)
        body["assets"][0]["make"] = note[:100]
        response = post(keyed(chain.source), ITEMS, body)
        assert response.status_code == 201, response.json()


class TestColumns:
    def test_an_item_count_beyond_the_column_is_a_400_and_its_maximum_is_recorded(self, chain):
        source = keyed(chain.source)
        too_many = post(source, ITEMS, pickup_body(chain, item_count=2**31))
        problem_at(too_many, 400, "item_count", "max_value")
        assert not Lot.objects.exists()
        most = post(source, ITEMS, pickup_body(chain, item_count=2**31 - 1))
        assert most.json()["item_count"] == 2**31 - 1

    def test_a_transformation_output_counting_beyond_the_column_is_a_400(self, chain, pickup):
        output = {"material": "hdd", "mass_kg": "1", "item_count": 2**31}
        body = {"kind": "process", "inputs": [{"lot": pickup.code}], "outputs": [output]}
        response = post(keyed(chain.source), "/api/v1/transformations/", body)
        problem_at(response, 400, "outputs[0].item_count", "max_value")
        assert pickup.events.count() == 1


OVERFLOWING = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]


class TestTimes:
    @pytest.mark.parametrize("moment", OVERFLOWING)
    def test_a_filter_time_whose_utc_value_overflows_is_a_400(self, chain, pickup, moment):
        response = keyed(chain.source).get(ITEMS, {"updated_since": moment})
        problem_at(response, 400, "updated_since", "overflow")

    def test_filter_times_at_the_edges_of_the_calendar_still_filter(self, chain, pickup):
        source = keyed(chain.source)
        since_ever = source.get(ITEMS, {"updated_since": "0001-01-01T00:00:00Z"}).json()
        assert [lot["code"] for lot in since_ever["results"]] == [pickup.code]
        since_never = source.get(ITEMS, {"updated_since": "9999-12-31T23:59:59+14:00"}).json()
        assert since_never["results"] == []

    @pytest.mark.parametrize("moment", OVERFLOWING)
    def test_an_occurred_at_whose_utc_value_overflows_is_a_400(self, chain, pickup, moment):
        source = keyed(chain.source)
        created = post(source, ITEMS, pickup_body(chain, occurred_at=moment))
        problem_at(created, 400, "occurred_at", "overflow")
        weighed = post(
            source, f"{ITEMS}{pickup.code}/weigh/", {"mass_kg": "2", "occurred_at": moment}
        )
        problem_at(weighed, 400, "occurred_at", "overflow")
        item = {"lot": pickup.code, "action": "weigh", "mass_kg": "2", "occurred_at": moment}
        batch = post(source, "/api/v1/events/", {"events": [item]})
        problem_at(batch, 400, "events[0].occurred_at", "overflow")
        assert CustodyEvent.objects.count() == 1


class TestNulBytes:
    @pytest.mark.parametrize(
        ("method", "url"),
        [
            ("get", "/api/v1/lots/A%00B/"),
            ("get", "/api/v1/lots/A%00B/events/"),
            ("post", "/api/v1/lots/A%00B/weigh/"),
            ("get", "/api/v1/organizations/hyper%00scaler/"),
            ("get", "/api/v1/facilities/1%00/"),
        ],
    )
    def test_a_nul_in_a_path_segment_is_a_404_problem(self, chain, pickup, method, url):
        client = keyed(chain.source)
        response = post(client, url, {"mass_kg": "1"}) if method == "post" else client.get(url)
        problem_at(response, 404, None, "not_found")

    @pytest.mark.parametrize(
        ("url", "parameter"),
        [
            (ITEMS, "status"),
            (ITEMS, "quarantined"),
            (ITEMS, "page_size"),
            (ITEMS, "custodian_gln"),
            (ITEMS, "updated_since"),
            (ITEMS, "cursor"),
            ("/api/v1/events/", "cursor"),
            ("/api/v1/facilities/", "organization"),
            ("/api/v1/certifications/", "scheme"),
        ],
    )
    def test_a_nul_in_a_query_parameter_is_a_400_at_that_parameter(
        self, chain, pickup, url, parameter
    ):
        response = keyed(chain.source).get(url, {parameter: "a\x00b"})
        problem_at(response, 400, parameter)


class TestMasses:
    @pytest.mark.parametrize(
        "mass", ["1_000", "\u0661\u0662", "\uff11", "+1", " 1", "1 ", "1e3", "1E3", "", "."]
    )
    def test_a_mass_that_is_not_plain_decimal_text_is_a_400(self, chain, pickup, mass):
        source = keyed(chain.source)
        problem_at(post(source, ITEMS, pickup_body(chain, mass_kg=mass)), 400, "mass_kg")
        weighed = post(source, f"{ITEMS}{pickup.code}/weigh/", {"mass_kg": mass})
        problem_at(weighed, 400, "mass_kg")
        assert Lot.objects.count() == 1
        assert CustodyEvent.objects.count() == 1

    @pytest.mark.parametrize(("mass", "recorded"), [(1000, "1000.000"), (1.5, "1.500")])
    def test_json_numbers_still_weigh(self, chain, mass, recorded):
        response = post(keyed(chain.source), ITEMS, pickup_body(chain, mass_kg=mass))
        assert response.status_code == 201, response.json()
        assert response.json()["mass_kg"] == recorded


class TestBodySize:
    def test_a_body_over_the_limit_is_a_413_before_it_is_read(self, chain, settings):
        settings.API_MAX_BODY_BYTES = 1000

        class Unreadable(io.RawIOBase):
            def read(self, *args):
                raise AssertionError("the body was read")

        response = raw_post(
            keyed(chain.source), ITEMS, "", CONTENT_LENGTH="1001", **{"wsgi.input": Unreadable()}
        )
        body = problem_at(response, 413, None, "body_too_large")
        assert "1,000 bytes" in body["detail"]
        small = post(keyed(chain.source), ITEMS, pickup_body(chain))
        assert small.status_code == 201

    @pytest.mark.parametrize(("limit", "status"), [(100, 413), (100_000, 201)])
    def test_a_chunked_body_is_read_up_to_the_limit(self, chain, settings, limit, status):
        settings.API_MAX_BODY_BYTES = limit
        chunked = {
            "HTTP_TRANSFER_ENCODING": "chunked",
            "CONTENT_TYPE": "application/json",
            "wsgi.input": io.BytesIO(json.dumps(pickup_body(chain)).encode()),
            "wsgi.input_terminated": True,
        }
        response = raw_post(keyed(chain.source), ITEMS, "", **chunked)
        assert response.status_code == status, response.content[:300]
        assert Lot.objects.count() == (status == 201)

    def test_a_chunked_body_a_server_cannot_end_is_a_411(self, chain):
        chunked = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"{}")}
        response = raw_post(keyed(chain.source), ITEMS, "", **chunked)
        problem_at(response, 411, None, "length_required")

    @pytest.mark.urls(__name__)
    def test_djangos_request_data_too_big_is_a_413(self, client, settings):
        """Django raises it where it reads a body whole (``DATA_UPLOAD_MAX_MEMORY_SIZE``): for
        an API request, that is a body too large, not a bad request."""
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
        response = client.post("/api/v1/body/", "x" * 11, content_type="text/plain")
        problem_at(response, 413, None, "body_too_large")
        assert client.post("/api/v1/body/", "x" * 10, content_type="text/plain").content == b"10"


class TestRouting:
    @pytest.mark.parametrize("url", ["{lot}/", ""])
    def test_the_trace_method_is_not_the_trace_action(self, chain, pickup, url):
        response = keyed(chain.source).generic("TRACE", f"{ITEMS}{url.format(lot=pickup.code)}")
        problem_at(response, 405, None, "method_not_allowed")

    @pytest.mark.parametrize(
        "cursor",
        [
            "garbage",
            base64.b64encode(b"p=abc").decode(),
            base64.b64encode(b"p=99999999999999999999999").decode(),
            base64.b64encode(b"o=1&p=1.5").decode(),
        ],
    )
    @pytest.mark.parametrize("url", [ITEMS, "/api/v1/events/", "/api/v1/facilities/"])
    def test_a_malformed_cursor_is_a_400(self, chain, pickup, url, cursor):
        response = keyed(chain.source).get(url, {"cursor": cursor})
        problem_at(response, 400, "cursor", "invalid_cursor")

    @pytest.mark.parametrize("size", ["true", "abc", "-1", "0", "1.5", "\u0662"])
    def test_a_page_size_that_is_no_whole_number_is_a_400(self, chain, two_lots, size):
        response = keyed(chain.source).get(ITEMS, {"page_size": size})
        problem_at(response, 400, "page_size", "invalid_page_size")

    @pytest.mark.parametrize(("size", "count"), [("1", 1), ("5000", 2), ("", 2)])
    def test_a_page_size_in_range_or_beyond_or_empty_still_pages(
        self, chain, two_lots, size, count
    ):
        response = keyed(chain.source).get(ITEMS, {"page_size": size})
        assert len(response.json()["results"]) == count

    @pytest.mark.parametrize("value", ["yes", "-1", "2", "null"])
    def test_a_boolean_filter_that_is_neither_true_nor_false_is_a_400(self, chain, pickup, value):
        response = keyed(chain.source).get(ITEMS, {"quarantined": value})
        problem_at(response, 400, "quarantined", "invalid")

    @pytest.mark.parametrize(
        ("value", "count"), [("true", 0), ("False", 1), ("1", 0), ("0", 1), ("", 1)]
    )
    def test_a_boolean_filter_takes_true_false_one_or_zero(self, chain, pickup, value, count):
        response = keyed(chain.source).get(ITEMS, {"quarantined": value})
        assert len(response.json()["results"]) == count

    @pytest.mark.parametrize("debug", [False, True])
    def test_a_write_without_its_trailing_slash_is_a_404_problem(
        self, chain, pickup, settings, debug
    ):
        settings.DEBUG = debug
        response = post(keyed(chain.source), f"{ITEMS}{pickup.code}/weigh", {"mass_kg": "2"})
        body = problem_at(response, 404, None, "not_found")
        assert f"{ITEMS}{pickup.code}/weigh/" in body["detail"]
        assert pickup.events.count() == 1

    def test_a_read_without_its_trailing_slash_is_still_redirected(self, chain, pickup):
        response = keyed(chain.source).get(f"{ITEMS}{pickup.code}")
        assert (response.status_code, response["Location"]) == (301, f"{ITEMS}{pickup.code}/")
