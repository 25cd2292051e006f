"""``GET /lots/{code}/verdict/?policy=SLUG@N``: a verdict under a named policy version, the same
after later edits of the policy; an unknown policy or version is a 400 naming ``policy``."""

import pytest
from rest_framework.test import APIClient

from custody.models import OriginPolicy
from custody.services.policies import save_origin_policy

from .test_read_api import PROBLEM, key_for, lot_url

DEFAULT = "us-domestic-2027"


def client_of(organization) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key_for(organization)}")
    return client


def deny_the_united_states() -> None:
    policy = OriginPolicy.objects.get(is_default=True)
    policy.denied_countries = [*policy.denied_countries, "US"]
    save_origin_policy(policy=policy, save_rules=lambda: None)


def test_a_named_version_gives_its_verdict_after_the_policy_was_edited(chain, pickup):
    client = client_of(chain.source)
    url = lot_url(pickup, "verdict/")
    before = client.get(url).json()
    assert (before["outcome"], before["policy"]["version"]) == ("verified", 1)
    deny_the_united_states()
    again = client.get(url, {"policy": f"{DEFAULT}@1"}).json()
    assert (again["outcome"], again["findings"], again["policy"]) == (
        before["outcome"],
        before["findings"],
        before["policy"],
    )
    for latest in (client.get(url).json(), client.get(url, {"policy": DEFAULT}).json()):
        assert latest["outcome"] == "non_compliant"
        assert latest["policy"] == {"name": before["policy"]["name"], "slug": DEFAULT, "version": 2}
        assert {f["code"] for f in latest["findings"]} == {"denied_jurisdiction"}


@pytest.mark.parametrize(
    "reference",
    [
        "nope",
        "nope@1",
        f"{DEFAULT}@2",
        f"{DEFAULT}@x",
        "",
        "a\x00b",
        "9" * 100,
        f"{DEFAULT}@{'9' * 5000}",
    ],
)
def test_an_unknown_policy_or_version_is_a_400_naming_the_field(chain, pickup, reference):
    response = client_of(chain.source).get(lot_url(pickup, "verdict/"), {"policy": reference})
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "unknown_policy"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("policy", "unknown_policy")]


def test_a_lot_the_caller_may_not_see_is_a_404_whatever_the_policy(chain, pickup):
    response = client_of(chain.recycler).get(lot_url(pickup, "verdict/"), {"policy": "nope"})
    assert response.status_code == 404
