"""Stories of customers' email reaching agents: which contact, which conversation, what text."""

from __future__ import annotations

from email.message import EmailMessage

from clientcontact.channels.base import ChannelKind
from tests.builders import customer_writes
from tests.harness import Api
from tests.ingest.stories import (
    MARIA,
    SUPPORT,
    agent_replies,
    conversations_of,
    email,
    mail,
    messages_in,
    reply_address,
    resolve,
    route,
)


class TestConversationChoice:
    def test_a_customers_reply_with_our_reply_token_joins_its_conversation(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        # Their client dropped the threading headers, but wrote to our reply address.
        raw = mail(to=reply_address(api, thread.conversation_id), subject="something else")

        message = route(api, email(raw, recipient=reply_address(api, thread.conversation_id)))

        assert message.conversation_id == thread.conversation_id
        assert message.contact_id == thread.contact_id

    def test_the_reply_token_is_found_in_cc_and_delivery_headers_too(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        token_address = reply_address(api, thread.conversation_id)

        in_cc = route(api, email(mail(cc=token_address)))
        delivered = route(api, email(mail(headers={"Delivered-To": token_address.upper()})))

        assert in_cc.conversation_id == delivered.conversation_id == thread.conversation_id

    def test_a_reply_matched_by_in_reply_to_joins(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        ours = agent_replies(api, thread.conversation_id)

        raw = mail(subject="Re: Damaged order", text="Thanks, it arrived.",
                   in_reply_to=ours["email_message_id"], references=[ours["email_message_id"]])
        message = route(api, email(raw))

        assert message.conversation_id == thread.conversation_id
        assert [m["text"] for m in messages_in(api, thread.conversation_id)][-1] == \
            "Thanks, it arrived."

    def test_references_to_the_customers_own_earlier_mail_join(self, api: Api) -> None:
        thread = customer_writes(api, api.alice, email_message_id="<first@mail.example.org>")

        raw = mail(subject="Also", references=["<first@mail.example.org>"])

        assert route(api, email(raw)).conversation_id == thread.conversation_id

    def test_a_new_mail_with_the_same_subject_is_a_new_conversation(self, api: Api) -> None:
        thread = customer_writes(api, api.alice, subject="Invoice")

        message = route(api, email(mail(subject="Re: Invoice")))

        assert message.conversation_id != thread.conversation_id
        assert message.contact_id == thread.contact_id  # same person, new story

    def test_two_customers_replying_to_one_newsletter_get_separate_conversations(
        self, api: Api
    ) -> None:
        thread = customer_writes(api, api.alice, subject="Spring sale")
        newsletter = agent_replies(api, thread.conversation_id, "20% off everything")
        answer = {"subject": "Re: Spring sale", "in_reply_to": newsletter["email_message_id"],
                  "references": [newsletter["email_message_id"]]}

        maria = route(api, email(mail(**answer)))
        tom = route(api, email(mail(sender="Tom Lee <tom@example.net>", **answer)))

        assert maria.conversation_id == thread.conversation_id
        assert tom.conversation_id != thread.conversation_id
        assert tom.contact_addresses == ["tom@example.net"]
        assert conversations_of(api, tom.contact_id) == [tom.conversation_id]

    def test_someone_cced_who_replies_all_stays_in_the_conversation(self, api: Api) -> None:
        first = route(api, email(mail(cc="Tom Lee <tom@example.net>",
                                      message_id="<start@mail.example.org>")))

        raw = mail(sender="Tom Lee <tom@example.net>", cc=MARIA, subject="Re: Damaged order",
                   in_reply_to="<start@mail.example.org>")
        tom = route(api, email(raw))

        assert tom.conversation_id == first.conversation_id
        assert tom.contact_addresses == ["tom@example.net"]  # the author, not the owner

    def test_a_reply_to_a_resolved_conversation_reopens_it(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        resolve(api, thread.conversation_id, days_ago=2)

        message = route(api, email(mail(to=reply_address(api, thread.conversation_id))))

        assert message.conversation_id == thread.conversation_id
        assert message.conversation_status == "open"

    def test_a_reply_long_after_resolving_starts_a_new_conversation(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        resolve(api, thread.conversation_id, days_ago=api.settings.reopen_window_days + 1)

        message = route(api, email(mail(to=reply_address(api, thread.conversation_id))))

        assert message.conversation_id != thread.conversation_id
        assert message.conversation_status == "open"

    def test_anothers_accounts_message_ids_and_tokens_never_match(self, api: Api) -> None:
        theirs = customer_writes(api, api.carol, email_message_id="<globex@mail.example.org>")

        raw = mail(in_reply_to="<globex@mail.example.org>",
                   to=reply_address(api, theirs.conversation_id, person=api.carol))
        message = route(api, email(raw))

        assert message.conversation_id != theirs.conversation_id


class TestSender:
    def test_the_sender_becomes_a_contact_named_as_they_sign(self, api: Api) -> None:
        message = route(api, email(mail(sender="Maria Garcia <Maria@Example.org>")))

        assert message.contact_addresses == ["maria@example.org"]
        assert message.contact_name == "Maria Garcia"

    def test_a_known_address_finds_its_contact_whatever_the_case(self, api: Api) -> None:
        thread = customer_writes(api, api.alice, address="maria@example.org")

        message = route(api, email(mail(sender="MARIA@EXAMPLE.ORG")))

        assert message.contact_id == thread.contact_id

    def test_reply_to_wins_over_from(self, api: Api) -> None:
        raw = mail(sender="Web form <noreply@shop.example>",
                   headers={"Reply-To": "Maria Garcia <maria@example.org>"})

        assert route(api, email(raw)).contact_addresses == ["maria@example.org"]

    def test_a_mailing_list_rewrite_keeps_the_person(self, api: Api) -> None:
        raw = mail(sender="Buyers group <buyers@groups.example>",
                   headers={"X-Original-Sender": "jane@example.com"})

        assert route(api, email(raw)).contact_addresses == ["jane@example.com"]

    def test_cced_people_are_not_the_contact(self, api: Api) -> None:
        raw = mail(cc="Tom Lee <tom@example.net>, Support <support@acme.test>")

        message = route(api, email(raw))

        assert message.contact_addresses == ["maria@example.org"]
        assert message.extra["cc"] == ["tom@example.net"]  # recorded; our own address is not

    def test_mail_from_our_own_address_is_flagged_as_a_loop(self, api: Api) -> None:
        message = route(api, email(mail(sender=f"Acme Support <{SUPPORT}>")))

        assert message.extra["loop"] is True
        assert message.extra["auto_submitted"] is True
        assert SUPPORT not in message.contact_addresses


class TestIdempotency:
    def test_the_same_message_id_twice_is_one_message(self, api: Api) -> None:
        raw = mail(message_id="<once@mail.example.org>")

        first = route(api, email(raw))
        again = route(api, email(raw))

        assert again.id == first.id
        assert len(messages_in(api, first.conversation_id)) == 1

    def test_our_own_mail_coming_back_is_not_a_customer_message(self, api: Api) -> None:
        thread = customer_writes(api, api.alice)
        ours = agent_replies(api, thread.conversation_id)

        echo = route(api, email(mail(sender=SUPPORT, message_id=ours["email_message_id"])))

        assert echo.id == ours["id"]
        assert echo.direction == "out"


class TestContent:
    def test_html_is_sanitized_with_remote_images_blocked(self, api: Api) -> None:
        raw = mail(html='<p onclick="x()">Hi<script>alert(1)</script>'
                        '<img src="https://tracker.example/p.gif"></p>')

        message = route(api, email(raw))

        assert "script" not in (message.html or "") and "onclick" not in (message.html or "")
        assert 'data-blocked-src="https://tracker.example/p.gif"' in (message.html or "")
        assert message.extra["blocked_images"] == 1

    def test_the_raw_mail_and_the_full_text_are_kept(self, api: Api) -> None:
        text = "Yes, please.\n\nOn Mon, Maria wrote:\n> Shall I send it back?\n"
        raw = mail(text=text)

        message = route(api, email(raw))

        assert message.full_text == text
        assert "Yes, please." in message.text
        with api.session() as session:
            from clientcontact.conversations.models import Message

            assert session.get_one(Message, message.id).original == raw

    def test_an_inline_image_is_kept_for_the_html_that_shows_it(self, api: Api) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = MARIA, SUPPORT, "Broken lid"
        msg.set_content("See the photo.")
        msg.add_alternative('<p>See the photo.</p><img src="cid:photo@maria">', subtype="html")
        msg.get_payload()[1].add_related(b"\x89PNG fake", maintype="image", subtype="png",
                                         cid="<photo@maria>", filename="lid.png")

        message = route(api, email(msg.as_bytes()))

        assert message.attachments == [("lid.png", True, len(b"\x89PNG fake"))]
        assert 'src="cid:photo@maria"' in (message.html or "")

    def test_attachments_are_stored_and_oversized_ones_dropped_but_noted(
        self, api: Api
    ) -> None:
        settings = api.settings.model_copy(update={"max_attachment_bytes": 1000})
        raw = mail(attachments=[("receipt.pdf", "application/pdf", b"%PDF" + b"x" * 100),
                                ("video.mp4", "video/mp4", b"v" * 5000)])

        message = route(api, email(raw), settings=settings)

        assert message.attachments == [("receipt.pdf", False, 104)]
        assert message.extra["dropped_attachments"] == [
            {"filename": "video.mp4", "content_type": "video/mp4", "size": 5000,
             "reason": "too_large"}]


def test_channel_is_email_for_these_stories() -> None:
    assert email(mail()).channel is ChannelKind.EMAIL
