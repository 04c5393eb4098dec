"""SendGrid: email."""

from clientcontact.channels.sendgrid.sender import SendGridSender

__all__ = ["SendGridSender"]
