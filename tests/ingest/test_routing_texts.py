"""Stories of SMS and WhatsApp messages reaching agents: no threads, one running conversation."""

from __future__ import annotations

from clientcontact.channels.base import ChannelKind, InboundAttachment
from tests.builders import customer_writes
from tests.harness import Api
from tests.ingest.stories import conversations_of, messages_in, resolve, route, text_message


def test_a_text_joins_the_contacts_open_conversation(api: Api) -> None:
    thread = customer_writes(api, api.alice, channel=ChannelKind.SMS, address="+14155550123")

    message = route(api, text_message("Any news?", sender="+1 (415) 555-0123"))

    assert message.conversation_id == thread.conversation_id
    assert message.contact_id == thread.contact_id


def test_an_sms_reply_to_a_resolved_conversation_reopens_it(api: Api) -> None:
    thread = customer_writes(api, api.alice, channel=ChannelKind.SMS, address="+14155550123")
    resolve(api, thread.conversation_id, days_ago=1)

    message = route(api, text_message("It broke again"))

    assert message.conversation_id == thread.conversation_id
    assert message.conversation_status == "open"


def test_after_the_reopen_window_it_starts_a_new_one(api: Api) -> None:
    thread = customer_writes(api, api.alice, channel=ChannelKind.SMS, address="+14155550123")
    resolve(api, thread.conversation_id, days_ago=api.settings.reopen_window_days + 1)

    message = route(api, text_message("Hello again"))

    assert message.conversation_id != thread.conversation_id
    assert conversations_of(api, thread.contact_id) == [thread.conversation_id,
                                                        message.conversation_id]


def test_an_open_conversation_wins_over_a_recently_resolved_one(api: Api) -> None:
    old = customer_writes(api, api.alice, channel=ChannelKind.SMS, address="+14155550123")
    resolve(api, old.conversation_id)
    current = customer_writes(api, api.alice, channel=ChannelKind.SMS, contact_id=old.contact_id)

    assert route(api, text_message("?")).conversation_id == current.conversation_id


def test_a_stranger_becomes_a_contact_named_by_their_whatsapp_profile(api: Api) -> None:
    message = route(api, text_message("Hola", sender="whatsapp:+34612345678",
                                      channel=ChannelKind.WHATSAPP, name="Lucía"))

    assert message.contact_addresses == ["+34612345678"]
    assert message.contact_name == "Lucía"
    assert message.text == "Hola"


def test_the_same_message_sid_twice_is_one_message(api: Api) -> None:
    event = text_message("Once", external_id="SM0123456789abcdef0123456789abcdef")

    first = route(api, event)
    again = route(api, event)

    assert again.id == first.id
    assert len(messages_in(api, first.conversation_id)) == 1


def test_media_the_provider_cannot_hand_over_is_kept_as_a_link(api: Api) -> None:
    photo = InboundAttachment(filename="photo.jpg", content_type="image/jpeg",
                              url="https://api.twilio.example/Media/ME1")

    message = route(api, text_message("See photo", media=[photo]))  # the mock provider

    assert message.attachments == []
    assert message.extra["media_urls"] == ["https://api.twilio.example/Media/ME1"]


def test_a_text_with_nul_characters_is_stored_without_them(api: Api) -> None:
    message = route(api, text_message("Hello\x00 there"))

    assert message.text == "Hello there"
