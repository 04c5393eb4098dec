"""Teams: a name is the account's only once, whether a team is created or renamed."""

from __future__ import annotations

from tests.harness import Api


def test_renaming_a_team_to_a_taken_name_is_a_conflict(api: Api) -> None:
    billing = api.alice.http.post("/api/v1/teams", json={"name": "Billing"}).json()
    api.alice.http.post("/api/v1/teams", json={"name": "Support"}).raise_for_status()
    response = api.alice.http.put(f"/api/v1/teams/{billing['id']}",
                                  json={"name": " Support ", "agent_ids": []})
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "a team named 'Support' already exists"
    assert api.alice.http.get(f"/api/v1/teams/{billing['id']}").json()["name"] == "Billing"


def test_a_team_keeps_its_own_name_when_its_members_change(api: Api) -> None:
    billing = api.alice.http.post("/api/v1/teams", json={"name": "Billing"}).json()
    response = api.alice.http.put(f"/api/v1/teams/{billing['id']}",
                                  json={"name": "Billing", "agent_ids": [api.bob.agent_id]})
    assert response.status_code == 200
    assert response.json()["agent_ids"] == [api.bob.agent_id]
