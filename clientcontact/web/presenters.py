"""How values read on screen: relative times, channel icons, delivery labels."""

from __future__ import annotations

from datetime import datetime, timedelta

from clientcontact.channels.base import ChannelKind, DeliveryStatus
from clientcontact.db.base import utcnow

# Short text badges rather than emoji: they read the same with any font on any machine.
CHANNEL_ICONS = {ChannelKind.EMAIL: "Email", ChannelKind.SMS: "SMS", ChannelKind.WHATSAPP: "WA"}
CHANNEL_LABELS = {ChannelKind.EMAIL: "Email", ChannelKind.SMS: "SMS",
                  ChannelKind.WHATSAPP: "WhatsApp"}
DELIVERY_LABELS = {
    DeliveryStatus.QUEUED: ("…", "Queued"),
    DeliveryStatus.SENDING: ("…", "Sending"),
    DeliveryStatus.SENT: ("✓", "Sent"),
    DeliveryStatus.DELIVERED: ("✓✓", "Delivered"),
    DeliveryStatus.READ: ("✓✓", "Read"),
    DeliveryStatus.FAILED: ("!", "Failed"),
}


def relative_time(at: datetime | None, now: datetime | None = None) -> str:
    """"now", "5m", "3h", "2d", then a date: what a busy list needs at a glance."""
    if at is None:
        return ""
    elapsed = (now or utcnow()) - at
    if elapsed < timedelta(minutes=1):
        return "now"
    if elapsed < timedelta(hours=1):
        return f"{int(elapsed.total_seconds() // 60)}m"
    if elapsed < timedelta(days=1):
        return f"{int(elapsed.total_seconds() // 3600)}h"
    if elapsed < timedelta(days=7):
        return f"{elapsed.days}d"
    return f"{at:%b} {at.day}" if at.year == (now or utcnow()).year else f"{at:%Y-%m-%d}"


def full_time(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at else ""


def file_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def initials(name: str | None) -> str:
    parts = (name or "?").split()
    return "".join(p[0] for p in parts[:2]).upper() or "?"


FILTERS = {
    "relative_time": relative_time,
    "full_time": full_time,
    "file_size": file_size,
    "initials": initials,
    "channel_icon": lambda channel: CHANNEL_ICONS.get(channel, "•"),
    "channel_label": lambda channel: CHANNEL_LABELS.get(channel, str(channel)),
    "delivery_icon": lambda status: DELIVERY_LABELS.get(status, ("", ""))[0],
    "delivery_label": lambda status: DELIVERY_LABELS.get(status, ("", str(status)))[1],
}
