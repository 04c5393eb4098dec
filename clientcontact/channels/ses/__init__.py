"""Amazon SES: email."""

from clientcontact.channels.ses.sender import SesSender

__all__ = ["SesSender"]
