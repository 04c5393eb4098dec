"""Stories of an agent answering a customer: saved first, delivered by the worker."""

from __future__ import annotations

import base64

import httpx

from clientcontact.channels.base import ChannelKind
from clientcontact.conversations.models import Attachment
from tests.builders import Thread, customer_writes
from tests.harness import Api


def outbox(api: Api) -> list[dict]:
    response = api.alice.http.get("/api/v1/dev/outbox")
    assert response.status_code == 200, response.text
    return response.json()


class TestReply:
    def test_reply_is_saved_queued_then_sent_by_the_worker(self, api: Api) -> None:
        thread = customer_writes(api, api.alice, subject="Order #10482 arrived damaged")

        reply = api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                                    json={"text": "A replacement is on its way."})

        assert reply.status_code == 201, reply.text
        assert reply.json()["status"] == "queued"
        assert outbox(api) == []  # nothing leaves before the worker runs
        api.run_worker()
        message = api.alice.http.get(f"/api/v1/messages/{reply.json()['id']}").json()
        assert message["status"] == "sent"
        assert message["sent_at"] is not None
        assert message["external_id"].startswith("mock-")

    def test_email_reply_threads_under_the_customers_mail(self, api: Api) -> None:
        thread = customer_writes(api, api.alice, subject="Order #10482 arrived damaged",
                                 email_message_id="<abc@mail.example.org>")

        api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                            json={"text": "A replacement is on its way."})
        api.run_worker()

        [sent] = outbox(api)
        headers = sent["headers"]
        assert headers["To"] == "maria@example.org"
        assert headers["From"] == "Acme Support <support@acme.test>"
        assert headers["Subject"] == "Re: Order #10482 arrived damaged"
        assert headers["In-Reply-To"] == "<abc@mail.example.org>"
        assert headers["References"] == "<abc@mail.example.org>"
        assert headers["Reply-To"].startswith("reply+")
        assert headers["Message-ID"].endswith("@acme.test>")

    def test_sms_reply_goes_to_the_contacts_number(self, api: Api) -> None:
        thread = customer_writes(api, api.alice, channel=ChannelKind.SMS, address="(415) 555-0123")

        api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                            json={"text": "We open at 10 on Sunday."})
        api.run_worker()

        [sent] = outbox(api)
        assert sent["to"] == "+14155550123"
        assert sent["text"] == "We open at 10 on Sunday."
        assert sent["status_callback_url"].endswith("/status")

    def test_reply_records_first_reply_time_and_stops_the_wait(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        before = api.alice.http.get(f"/api/v1/conversations/{thread.conversation_id}").json()
        assert before["waiting_since"] is not None and before["first_reply_at"] is None

        api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                            json={"text": "On it."})

        after = api.alice.http.get(f"/api/v1/conversations/{thread.conversation_id}").json()
        assert after["waiting_since"] is None
        assert after["first_reply_at"] is not None

    def test_an_empty_reply_is_refused(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        response = api.alice.http.post(
            f"/api/v1/conversations/{thread.conversation_id}/messages", json={"text": "  "})
        assert response.status_code == 400
        assert "needs text" in response.json()["error"]["message"]


class TestNotes:
    def test_a_note_is_in_the_thread_but_never_sent(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        note = api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/notes",
                                   json={"text": "Customer is a VIP, be generous."})
        assert note.status_code == 201
        assert note.json()["kind"] == "note" and note.json()["status"] is None
        api.run_worker()
        assert outbox(api) == []
        thread_kinds = [m["kind"] for m in api.alice.http.get(
            f"/api/v1/conversations/{thread.conversation_id}/messages").json()["messages"]]
        assert thread_kinds == ["message", "note"]


class TestFailedSends:
    def test_a_permanent_failure_shows_the_providers_reason(self, api: Api) -> None:
        thread = customer_writes(api, api.alice, channel=ChannelKind.SMS, address="+15005550001")
        reply = api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                                    json={"text": "Hello?"}).json()
        api.run_worker()
        failed = api.alice.http.get(f"/api/v1/messages/{reply['id']}").json()
        assert failed["status"] == "failed"
        assert failed["error_code"] == "21211"
        assert "not a valid phone number" in failed["error_text"]

    def test_the_agent_fixes_the_address_and_retries(self, api: Api) -> None:
        thread = customer_writes(api, api.alice, address="bounce@example.com")
        reply = api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                                    json={"text": "Your refund is done."}).json()
        api.run_worker()
        assert api.alice.http.get(f"/api/v1/messages/{reply['id']}").json()["status"] == "failed"

        api.alice.http.patch(f"/api/v1/contacts/{thread.contact_id}", json={
            "identities": [{"kind": "email", "value": "maria.garcia@example.org"}]})
        retried = api.alice.http.post(f"/api/v1/messages/{reply['id']}/retry")
        assert retried.status_code == 200
        assert retried.json()["status"] == "queued" and retried.json()["error_text"] is None
        api.run_worker()

        assert api.alice.http.get(f"/api/v1/messages/{reply['id']}").json()["status"] == "sent"
        assert [m["to"] for m in outbox(api)] == ["maria.garcia@example.org"]

    def test_only_a_failed_message_can_be_retried(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        reply = api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                                    json={"text": "Hi"}).json()
        api.run_worker()
        response = api.alice.http.post(f"/api/v1/messages/{reply['id']}/retry")
        assert response.status_code == 409
        assert "only a failed message" in response.json()["error"]["message"]

    def test_a_transient_failure_stays_queued_with_the_reason(self, api: Api) -> None:
        thread = customer_writes(api, api.alice, channel=ChannelKind.SMS, address="+15005550010")
        reply = api.alice.http.post(f"/api/v1/conversations/{thread.conversation_id}/messages",
                                    json={"text": "Hello"}).json()
        api.run_worker()
        message = api.alice.http.get(f"/api/v1/messages/{reply['id']}").json()
        assert message["status"] == "queued"
        assert message["error_text"].startswith("retrying:")


class TestAttachments:
    def test_an_attachment_is_stored_sent_and_downloadable(self, api: Api) -> None:
        reply = reply_with_file(api, customer_writes(api, api.alice), "invoice 10482.pdf",
                                "application/pdf", b"%PDF-1.4 fake",
                                text="Here is your invoice.").json()
        [attachment] = reply["attachments"]
        assert attachment["size"] == len(b"%PDF-1.4 fake")
        download = api.alice.http.get(f"/api/v1/attachments/{attachment['id']}")
        assert download.content == b"%PDF-1.4 fake"
        assert "invoice%2010482.pdf" in download.headers["content-disposition"]
        api.run_worker()
        assert outbox(api)[0]["attachments"][0]["filename"] == "invoice 10482.pdf"

    def test_attachment_data_must_be_base64(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        response = api.alice.http.post(
            f"/api/v1/conversations/{thread.conversation_id}/messages",
            json={"text": "x", "attachments": [{"filename": "a", "data_base64": "!!"}]})
        assert response.status_code == 422
        assert "base64" in response.json()["error"]["message"]

    def test_a_content_type_that_is_no_mime_type_is_refused(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        for content_type in ("text/plain\r\nSet-Cookie: x=1", "pdf", "text/plain; é=1"):
            response = reply_with_file(api, thread, "a.txt", content_type, b"hello")
            assert response.status_code == 422, content_type
            assert response.json()["error"]["details"][0]["field"] == (
                "body.attachments.0.content_type")

    def test_a_stored_content_type_unfit_for_a_header_downloads_as_bytes(self,
                                                                         api: Api) -> None:
        """Accepted before it was checked, or sent by a provider: the file still downloads."""
        reply = reply_with_file(api, customer_writes(api, api.alice), "a.txt", "text/plain",
                                b"hello").json()
        attachment_id = reply["attachments"][0]["id"]
        with api.session() as session:
            session.get(Attachment, attachment_id).content_type = "text/plain\r\nX-Evil: 1"
        download = api.alice.http.get(f"/api/v1/attachments/{attachment_id}")
        assert download.status_code == 200 and download.content == b"hello"
        assert download.headers["content-type"] == "application/octet-stream"
        assert "x-evil" not in download.headers


def reply_with_file(api: Api, thread: Thread, filename: str, content_type: str, data: bytes,
                    *, text: str = "x") -> httpx.Response:
    """Alice answers the conversation with one attachment."""
    return api.alice.http.post(
        f"/api/v1/conversations/{thread.conversation_id}/messages",
        json={"text": text, "attachments": [{
            "filename": filename, "content_type": content_type,
            "data_base64": base64.b64encode(data).decode()}]})
