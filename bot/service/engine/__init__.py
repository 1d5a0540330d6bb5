"""The delivery engine: works the ledger until every target has its message, once.

Workers claim due deliveries with a lease (pending → sending) and commit before the
platform is called, then settle the outcome if they still hold the lease. The process
renews the leases it holds while it sends (``LeaseKeeper``), never claims a row it is
still sending, and sends only while the lease is surely its own. A delivery whose
worker died returns to the pool when its lease runs out, in doubt (it may have gone
out), as does a send the platform did not answer. Before such a delivery is sent again
the platform is asked whether it has it (``Reconciler``); found, it is recorded, not
resent. Only where the platform cannot be asked is it sent again unverified.
Retryable failures come back after a backoff; permanent ones fail at once.
Groups wait for the groups named in their ``after`` to go out; channels go first.

- ``engine``: ``DeliveryEngine``, the loop: claims batches, starts their sends, completes releases.
- ``claims``: which due deliveries are ready, in what order, and how many a claim takes.
- ``sending``: one delivery sent while its lease holds, and its outcome recorded.
- ``doubt``: a delivery in doubt looked for on its platform before it is sent again.
- ``routing``: a delivery's platform and the message built for it.
- ``outcomes``: what a failure makes of a delivery (a wait, a retry, a failure).
"""

from bot.service.engine.engine import DeliveryEngine
from bot.service.engine.sending import ProgressListener
from bot.service.retry import RetryPolicy

__all__ = ["DeliveryEngine", "ProgressListener", "RetryPolicy"]
