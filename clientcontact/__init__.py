"""ClientContact: one inbox for a business's email, SMS and WhatsApp conversations."""
