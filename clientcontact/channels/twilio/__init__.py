"""Twilio: SMS, MMS and WhatsApp."""

from clientcontact.channels.twilio.sender import TwilioSender

__all__ = ["TwilioSender"]
