"""E-mail: communiqués by SMTP as text and HTML, acknowledgement links, delivery status notifications."""
