"""The provider fakes answer as fast as the work asks, so timings measured against them (tests
of deadlines, the delivery benchmark's "provider 50 ms away") are the provider's and ours."""

from __future__ import annotations

import time

import requests

from tests.fakes.twilio_api import FakeTwilio

REQUESTS = 20


def test_a_keep_alive_client_gets_each_answer_without_a_delayed_ack_stall(
        twilio_api: FakeTwilio) -> None:
    url = f"{twilio_api.url}/2010-04-01/Accounts/{twilio_api.account_sid}/Messages.json"
    with requests.Session() as session:  # one connection, as a provider SDK keeps it
        session.auth = (twilio_api.account_sid, twilio_api.auth_token)
        started = time.monotonic()
        for n in range(REQUESTS):
            answer = session.post(url, data={"To": "+12125551234", "Body": f"Update {n}"})
            assert answer.status_code == 201
        took = time.monotonic() - started
    # A stall waits 40 ms for the client's delayed ACK on every answer: 0.8 s for twenty.
    assert took < REQUESTS * 0.03, f"{REQUESTS} answers took {took:.2f} s"
