"""``/api/v1/certification-acceptances/``: an auditor accepts a certification recorded after the
events it covers; partners read acceptances and may not make one; bad input names its field."""

from custody.models import CertificationAcceptance

from ..factories import CertificationFactory
from .test_read_api import PROBLEM
from .test_write_api import keyed, post

URL = "/api/v1/certification-acceptances/"


def test_an_auditor_accepts_and_every_partner_reads_it(chain):
    certification = CertificationFactory(facility=chain.plant, number="R2-LATE")
    created = post(
        keyed(chain.auditor), URL, {"certification": certification.pk, "reason": "Report seen"}
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["accepted_by"] == "auditor"
    assert body["certification_version"] == certification.history.latest().history_id
    listed = keyed(chain.recycler).get(URL).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]


def test_a_partner_is_refused_and_nothing_is_written(chain):
    certification = CertificationFactory(facility=chain.plant)
    refused = post(keyed(chain.recycler), URL, {"certification": certification.pk, "reason": "Ok"})
    assert (refused.status_code, refused.json()["code"]) == (403, "not_an_assessor")
    assert refused["Content-Type"] == PROBLEM
    assert not CertificationAcceptance.objects.exists()


def test_bad_input_names_its_field(chain):
    auditor = keyed(chain.auditor)
    certification = CertificationFactory(facility=chain.plant)
    cases = [
        ({"certification": 10**9, "reason": "Ok"}, 400, "certification"),
        ({"certification": certification.pk, "reason": ""}, 422, "reason"),
        ({"certification": certification.pk, "reason": "Ok", "version": 1}, 400, "version"),
    ]
    for body, status, field in cases:
        answer = post(auditor, URL, body)
        assert answer.status_code == status, answer.json()
        assert [error["field"] for error in answer.json()["errors"]] == [field]
    post(auditor, URL, {"certification": certification.pk, "reason": "Ok"})
    again = post(auditor, URL, {"certification": certification.pk, "reason": "Ok"})
    assert (again.status_code, again.json()["code"]) == (409, "certification_already_accepted")
    assert CertificationAcceptance.objects.count() == 1
