"""SMTP: email through any mail server."""

from clientcontact.channels.smtp.sender import SmtpSender

__all__ = ["SmtpSender"]
