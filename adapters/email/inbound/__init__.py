"""Reading what comes back to Herald's mail: delivery reports, bounces, read receipts, auto-replies.

``read_mail`` says what one mail is (``reading``); ``ReportReader`` turns that into the
delivery reports the service applies, matched by return path or by message id
(``matching``). Each kind of mail has its own small reader: RFC 3464 reports (``dsn``),
everything else MTAs write (``bounces``, on flufl.bounce), RFC 8098 read receipts
(``mdn``) and RFC 3834 auto-replies (``autoreply``).
"""
