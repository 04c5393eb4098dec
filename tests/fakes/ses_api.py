"""Amazon SES v2 on loopback: moto in server mode for real sends, and a scriptable fake for
what moto does not model (GetAccount, throttling, credentials checks, slow answers).
"""

from __future__ import annotations

import json
import re
import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from urllib.request import Request, urlopen

import boto3
from moto.server import ThreadedMotoServer

from .scripted import ReceivedRequest, Reply, ScriptedServer

REGION = "us-east-1"
_ACCESS_KEY = re.compile(r"Credential=([^/]+)/")


class MotoSes:
    """Moto's SES in server mode; sent mail is read back through moto's own data API."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def start(self) -> MotoSes:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def reset(self, *, verified_domain: str) -> None:
        urlopen(Request(f"{self.url}/moto-api/reset", method="POST"), timeout=5).close()
        client = boto3.client("sesv2", region_name=REGION, endpoint_url=self.url,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_email_identity(EmailIdentity=verified_domain)

    def sent(self) -> list[EmailMessage]:
        """Every raw message SES accepted, parsed as the receiving side would."""
        with urlopen(f"{self.url}/moto-api/data.json", timeout=5) as answer:
            data = json.load(answer)
        raw = [m["raw_data"] for m in data.get("ses", {}).get("RawMessage", [])]
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(r.encode()) for r in raw]


class FakeSesApi(ScriptedServer):
    """The SES v2 REST API for one access key: sends succeed, GetAccount reports a healthy
    production account, anything signed with another key is refused like AWS refuses it."""

    def __init__(self, access_key: str = "testing") -> None:
        super().__init__()
        self.access_key = access_key

    def queue_error(self, code: str, message: str, status: int = 400, *, delay: float = 0.0,
                    **headers: str) -> None:
        self.queue(status, {"message": message}, delay=delay,
                   **{"x-amzn-ErrorType": code, **headers})

    def answer(self, request: ReceivedRequest) -> Reply:
        key = _ACCESS_KEY.search(request.headers.get("authorization", ""))
        if not key or key.group(1) != self.access_key:
            return Reply.of_json(403, {"message": "The security token included in the request "
                                                  "is invalid."},
                                 **{"x-amzn-ErrorType": "UnrecognizedClientException"})
        if (request.method, request.path) == ("POST", "/v2/email/outbound-emails"):
            return Reply.of_json(200, {"MessageId": f"0100{uuid.uuid4().hex}-000000"})
        if (request.method, request.path) == ("GET", "/v2/email/account"):
            return Reply.of_json(200, {
                "SendingEnabled": True, "ProductionAccessEnabled": True,
                "EnforcementStatus": "HEALTHY", "DedicatedIpAutoWarmupEnabled": False,
                "SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": 14.0,
                              "SentLast24Hours": 12.0},
            })
        return Reply.of_json(404, {"message": "not found"},
                             **{"x-amzn-ErrorType": "NotFoundException"})
